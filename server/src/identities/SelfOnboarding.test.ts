/**
 * "Create my avatar" uploads (POST /api/self/identities, no admin token in the default `open`
 * policy) against a real server: real SQLite file, real content checks and the Python face check.
 * The server-wide cap on self jobs must hold for uploads that arrive together, not only for
 * uploads that arrive one after another.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { onboardingInputs, type OnboardingInputs } from '../testing/onboardingInputs';
import { startTestServer } from '../testing/startTestServer';
import { studentCliMissing, testPythonConfig } from '../testing/studentCli';

let server: AvatarServer;
let dataDir: string;
let inputs: OnboardingInputs;

beforeAll(async () => {
  inputs = await onboardingInputs();
  dataDir = await mkdtemp(join(tmpdir(), 'self-onboarding-test-'));
  server = await startTestServer({
    onboarding: {
      dataDir,
      adminToken: 'test-admin-token-0123456789',
      // Accept uploads, train nowhere: accepted self jobs stay queued (pending).
      jobConcurrency: 0,
      selfOnboarding: 'open',
      maxPendingSelfJobs: 1,
      ...(studentCliMissing ? {} : { python: testPythonConfig() }),
    },
  });
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function selfUpload(name: string) {
  const form = new FormData();
  form.set('displayName', name);
  form.set('consent', JSON.stringify({ subjectName: name, uploadedBy: name, statement: `${name} agrees to an avatar of their own face.`, agreed: true }));
  form.set('file', new Blob([readFileSync(inputs.portrait)]), basename(inputs.portrait));
  const res = await fetch(`${server.url}/api/self/identities?room=demo`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as { identityId?: string; error?: { code: string } } };
}

describe.skipIf(studentCliMissing)('POST /api/self/identities', () => {
  it('keeps the cap on pending self jobs when uploads arrive together (the rest get 429 SELF_QUEUE_FULL, nothing left of them)', async () => {
    const results = await Promise.all(['Ann One', 'Ben Two', 'Cat Three'].map((name) => selfUpload(name)));
    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(1);
    expect(refused.map((r) => r.body.error?.code)).toEqual(['SELF_QUEUE_FULL', 'SELF_QUEUE_FULL']);
    expect(server.onboarding.registry.listIdentities()).toHaveLength(1);
    expect(readdirSync(join(dataDir, 'identities'))).toHaveLength(1);
    expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
    // Still full afterwards: the accepted job is pending.
    expect((await selfUpload('Dan Four')).body.error?.code).toBe('SELF_QUEUE_FULL');
  }, 120_000);
});
