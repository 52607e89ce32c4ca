/**
 * Path parameters of the onboarding REST API against a real server (real SQLite file): a version
 * is a plain positive decimal integer; anything else JavaScript's Number() would also accept
 * (hex, exponents, signs, blanks) is a 400 naming it, not a lookup of some other version.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { startTestServer } from '../testing/startTestServer';

const ADMIN = 'test-admin-token-0123456789';
let server: AvatarServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'onboarding-routes-test-'));
  server = await startTestServer({ onboarding: { dataDir, adminToken: ADMIN, jobConcurrency: 0 } });
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('onboarding routes: version parameters', () => {
  it.each(['0x1', '1e3', '+1', '1.0', '%201', '0', '-1'])('refuses version %j with 400 BAD_REQUEST', async (v) => {
    const res = await fetch(`${server.url}/api/identities/someone/versions/${v}/preview`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: 'version must be a positive integer' } });
  });

  it('looks up a plain version number', async () => {
    const res = await fetch(`${server.url}/api/identities/someone/versions/12/preview`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'IDENTITY_NOT_FOUND' } });
  });
});
