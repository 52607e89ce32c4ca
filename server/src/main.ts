/**
 * Entry point: the only place that reads process.env. Starts the server with embedded defaults,
 * prints the demo room URL, and closes cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AvatarServer } from './AvatarServer';
import { ConfigError, loadConfig } from './config';
import { demoRoomUrl } from './demoRoomUrl';

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
  // server.url's own port: new URL() drops a default one (PORT=80 printed "http://host:/room/demo").
  const port = server.url.slice(server.url.lastIndexOf(':') + 1);
  console.log(`Demo room: ${demoRoomUrl(publicHost, port)}`);
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
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    // The one start-up failure a user meets first: say what to change, without a stack.
    const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
    const why = code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
    console.error(`avatar server failed to start: ${address ?? ''}:${port ?? ''} ${why}; choose another port with PORT=… (and HOST=… for the address)`);
    process.exit(1);
  }
  console.error('avatar server failed to start:', error);
  process.exit(1);
});
