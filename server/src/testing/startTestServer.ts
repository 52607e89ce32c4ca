/** Starts a real AvatarServer for tests: free port, one worker, quiet logs unless TEST_LOG_LEVEL. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvatarServer, type AvatarServerOptions } from '../AvatarServer';
import { loadConfig, type ConfigInput, type PartialDeep } from '../config';

export async function startTestServer(overrides: PartialDeep<ConfigInput> = {}, options: AvatarServerOptions = {}): Promise<AvatarServer> {
  const base: PartialDeep<ConfigInput> = {
    http: { host: '127.0.0.1', port: 0 },
    mediasoup: { numWorkers: 1 },
    // Tests that do not set their own data directory share one outside the repo (never .data/).
    onboarding: { dataDir: join(tmpdir(), 'avatar-call-test-data') },
  };
  // TEST_LOG_LEVEL goes through the config schema like LOG_LEVEL would (no cast of the raw string).
  const config = loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL || 'silent' }, mergeOverrides(base, overrides));
  return AvatarServer.start(config, options);
}

function mergeOverrides(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    out[key] =
      typeof prev === 'object' && prev !== null && typeof value === 'object' && value !== null
        ? mergeOverrides(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
