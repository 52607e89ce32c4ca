/**
 * Starts the real AvatarServer for a test: a free port on loopback, the e2e client build,
 * one mediasoup worker (2 cores are shared by everything) and quiet logs. Close it in afterAll.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvatarServer } from '../../server/src/AvatarServer';
import { loadConfig, type ConfigInput, type PartialDeep } from '../../server/src/config';
import { ensureClientBuild } from './clientBuild';

export async function startTestServer(overrides: PartialDeep<ConfigInput> = {}): Promise<AvatarServer> {
  const clientDistDir = await ensureClientBuild();
  const base: PartialDeep<ConfigInput> = {
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    mediasoup: { numWorkers: 1, listenIp: '127.0.0.1', announcedIp: '127.0.0.1' },
    clientDistDir,
    // Tests that do not set their own data directory share one outside the repo (never .data/).
    onboarding: { dataDir: join(tmpdir(), 'avatar-call-test-data') },
  };
  return AvatarServer.start(loadConfig({}, mergeDeep(base, overrides)));
}

type Json = Record<string, unknown>;
function mergeDeep<T>(base: T, over: T): T {
  const out: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(over as Json)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
        ? mergeDeep(prev, value)
        : value;
  }
  return out as T;
}
