/**
 * POST /api/identities against a real server: every refusal path (with the real Python source
 * check where faces matter), the size cut-off, and 20 concurrent uploads. Jobs are not run here
 * (jobConcurrency 0); jobs.test.ts trains.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { onboardingInputs, type OnboardingInputs } from '../testing/onboardingInputs';
import { startTestServer } from '../testing/startTestServer';
import { studentCliMissing, testPythonConfig } from '../testing/studentCli';

const ADMIN = 'test-admin-token-0123456789';
const consent = { subjectName: 'Sam Zero', uploadedBy: 'Operator One', statement: 'Sam agreed to an avatar of their face for team calls.', agreed: true };
const MAX_BYTES = 8 * 1024 * 1024;

let server: AvatarServer;
let dataDir: string;
let inputs: OnboardingInputs;

beforeAll(async () => {
  inputs = await onboardingInputs();
  dataDir = await mkdtemp(join(tmpdir(), 'uploads-test-'));
  server = await startTestServer({
    onboarding: {
      dataDir,
      adminToken: ADMIN,
      jobConcurrency: 0,
      uploads: { maxBytes: MAX_BYTES },
      ...(studentCliMissing ? {} : { python: testPythonConfig() }),
    },
  });
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function upload(file: string | undefined, o: { consent?: unknown; displayName?: string; token?: string | null; identityId?: string } = {}) {
  const form = new FormData();
  form.set('displayName', o.displayName ?? 'Sam Zero');
  if (o.identityId) form.set('identityId', o.identityId);
  if (o.consent !== null) form.set('consent', JSON.stringify(o.consent ?? consent));
  if (file) form.set('file', new Blob([readFileSync(file)]), basename(file));
  const token = o.token === undefined ? ADMIN : o.token;
  const res = await fetch(`${server.url}/api/identities`, { method: 'POST', body: form, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as { identityId?: string; jobId?: string; error?: { code: string; message: string } } };
}

/** Nothing of a refused upload may remain: no identity, no files, an empty tmp/. */
function expectNothingLeft(identitiesBefore: number) {
  expect(server.onboarding.registry.listIdentities().length).toBe(identitiesBefore);
  expect(readdirSync(join(dataDir, 'identities')).length).toBe(identitiesBefore);
  expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
}

const count = () => server.onboarding.registry.listIdentities().length;

describe('POST /api/identities refusals before any face check', () => {
  it('needs the admin token', async () => {
    const before = count();
    expect(await upload(inputs.portrait, { token: null })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await upload(inputs.portrait, { token: 'wrong-token-wrong-token' })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'the admin token is not valid' } } });
    expectNothingLeft(before);
  });

  it('needs a consent record that says the person agreed', async () => {
    const before = count();
    const none = await upload(inputs.portrait, { consent: null });
    expect(none).toMatchObject({ status: 400, body: { error: { code: 'CONSENT_REQUIRED' } } });
    const notAgreed = await upload(inputs.portrait, { consent: { ...consent, agreed: false } });
    expect(notAgreed.body.error?.message).toMatch(/consent must be given/);
    const noSubject = await upload(inputs.portrait, { consent: { ...consent, subjectName: '' } });
    expect(noSubject.body.error?.message).toMatch(/consent.subjectName/);
    const control = await upload(inputs.portrait, { consent: { ...consent, uploadedBy: 'Op\u0000One' } });
    expect(control.body.error?.message).toMatch(/control characters/);
    expectNothingLeft(before);
  });

  it('refuses a fake JPEG (text with a .jpg name) by its content', async () => {
    const before = count();
    const r = await upload(inputs.fake);
    expect(r).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expectNothingLeft(before);
  });

  it('refuses a pixel bomb (a real 20000×20000 PNG) from its header, without decoding it', async () => {
    const before = count();
    const started = performance.now();
    const r = await upload(inputs.pixelBomb);
    expect(r).toMatchObject({ status: 413, body: { error: { code: 'IMAGE_TOO_LARGE' } } });
    expect(r.body.error?.message).toMatch(/20000×20000/);
    // Decoding 400 megapixels (or even starting Python) would take seconds; the header takes milliseconds.
    expect(performance.now() - started).toBeLessThan(3000);
    expectNothingLeft(before);
  });

  it('refuses a clip longer than 60 s and a clip in an unsupported codec', async () => {
    const before = count();
    const long = await upload(inputs.clip65s);
    expect(long).toMatchObject({ status: 422, body: { error: { code: 'CLIP_TOO_LONG' } } });
    expect(long.body.error?.message).toMatch(/65\.0 s long; at most 60 s/);
    const mjpeg = await upload(inputs.mjpeg);
    expect(mjpeg).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_CODEC' } } });
    expect(mjpeg.body.error?.message).toMatch(/mjpeg/);
    expectNothingLeft(before);
  });

  it('cuts a 2 GB upload short at the size limit and answers 413', async () => {
    const before = count();
    const boundary = 'x-boundary-2gb';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nBig\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
    );
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const total = 2 * 1024 * 1024 * 1024;
    const result = await new Promise<{ status: number; body: string; sentBytes: number }>((resolve, reject) => {
      let sent = 0;
      let status = 0;
      const req = request(`${server.url}/api/identities`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status, body, sentBytes: sent }));
      });
      req.on('error', (error) => (status ? undefined : reject(error)));
      req.write(head);
      const pump = () => {
        while (sent < total && !status) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!status) req.end();
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    // The server stopped reading near the limit: the client got its answer long before 2 GB.
    expect(result.sentBytes).toBeLessThan(total / 8);
    expectNothingLeft(before);
  });

  it('refuses a declared Content-Length over the limit before reading the body', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/api/identities`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': String(2 * 1024 ** 3) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('--b\r\n');
    });
    expect(status).toBe(413);
  });
});

describe.skipIf(studentCliMissing)('POST /api/identities with the real face check', () => {
  it('refuses a picture with no face, two faces, or a face too small, in plain words', async () => {
    const before = count();
    const none = await upload(inputs.noFace);
    expect(none).toMatchObject({ status: 422, body: { error: { code: 'NO_FACE' } } });
    expect(none.body.error?.message).toContain(basename(inputs.noFace)); // the uploader's file name, not a temp name
    const two = await upload(inputs.twoFaces);
    expect(two).toMatchObject({ status: 422, body: { error: { code: 'MULTIPLE_FACES', message: expect.stringMatching(/exactly one person/) } } });
    const tiny = await upload(inputs.tinyFace);
    expect(tiny).toMatchObject({ status: 422, body: { error: { code: 'FACE_TOO_SMALL', message: expect.stringMatching(/at least 80 px/) } } });
    expectNothingLeft(before);
    const refusals = server.onboarding.registry.listAudit().filter((a) => a.action === 'upload.refused').map((a) => a.detail.code);
    expect(refusals).toEqual(expect.arrayContaining(['NO_FACE', 'MULTIPLE_FACES', 'FACE_TOO_SMALL']));
  });

  it('accepts a portrait, records consent, and queues its training job', async () => {
    const r = await upload(inputs.portrait);
    expect(r.status).toBe(201);
    const { identityId, jobId } = r.body as { identityId: string; jobId: string };
    const job = await (await fetch(`${server.url}/api/jobs/${jobId}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
    expect(job).toMatchObject({ state: 'queued', progress: 0, stage: null, identityId });
    const detail = await (await fetch(`${server.url}/api/identities/${identityId}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
    expect(detail).toMatchObject({ displayName: 'Sam Zero', consent: { ...consent, method: 'admin' }, source: { kind: 'portrait', mime: 'image/jpeg', width: 600, height: 704, rotation: 0 } });
  });

  it('refuses an identity id that already exists before the face check (409 IDENTITY_EXISTS, nothing left)', async () => {
    const [existing] = server.onboarding.registry.listIdentities();
    if (!existing) throw new Error('the portrait above made no identity');
    const before = count();
    const started = performance.now();
    const r = await upload(inputs.portrait, { identityId: existing.id });
    expect(r).toMatchObject({ status: 409, body: { error: { code: 'IDENTITY_EXISTS' } } });
    // The face check is seconds of Python; a known id is refused without it.
    expect(performance.now() - started).toBeLessThan(1500);
    expectNothingLeft(before);
  });

  it('accepts a photo stored rotated with EXIF orientation 6, upright (600×704, rotation 90)', async () => {
    const r = await upload(inputs.rot90Exif);
    expect(r.status).toBe(201);
    const detail = server.onboarding.registry.getIdentity(r.body.identityId as string);
    expect(detail.source).toMatchObject({ kind: 'portrait', width: 600, height: 704, rotation: 90 });
  });

  it('accepts a 20 s clip', async () => {
    const r = await upload(inputs.clip20s);
    expect(r.status).toBe(201);
    const detail = server.onboarding.registry.getIdentity(r.body.identityId as string);
    expect(detail.source).toMatchObject({ kind: 'clip', mime: 'video/mp4', durationS: 20 });
  });

  it('queues 20 concurrent uploads in order, none lost, the database consistent', async () => {
    const before = server.onboarding.registry.jobs.list().length;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(inputs.portrait, { displayName: `Person ${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const jobs = server.onboarding.registry.jobs.list();
    expect(jobs.length).toBe(before + 20);
    const queued = jobs.filter((j) => j.state === 'queued');
    // Queue order = order of acceptance (seq), positions 0..n-1 with no gaps.
    expect(queued.map((j) => server.onboarding.registry.jobs.status(j).queuePosition)).toEqual(queued.map((_, i) => i));
    const ours = new Set(results.map((r) => r.body.jobId));
    expect(jobs.filter((j) => ours.has(j.id)).length).toBe(20);
    const db = server.onboarding.registry.db;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(readdirSync(join(dataDir, 'identities')).length).toBe(count());
    expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
  }, 600_000);
});
