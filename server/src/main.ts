/**
 * Entry point: the only place that reads process.env. Starts the server with embedded defaults,
 * prints the demo room URL, and closes cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AvatarServer } from './AvatarServer';
import { ConfigError, loadConfig } from './config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const server = await AvatarServer.start(config);
  const publicHost = ['0.0.0.0', '::'].includes(config.http.host) ? config.mediasoup.announcedIp : config.http.host;
  const port = new URL(server.url).port;
  console.log(`Demo room: http://${publicHost}:${port}/room/demo`);
  if (!existsSync(join(config.clientDistDir, 'index.html'))) {
    console.warn(`The browser client is not built (${config.clientDistDir}): run \`npm run build:client\` (infra/setup.sh does).`);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('avatar server failed to start:', error);
  process.exit(1);
});
