/**
 * Participants' join tokens and identity grants, end to end on a real server: the signalling
 * `join` check (no token, expired, another room's, forged signature, wrong name, valid), and
 * IdentityAccess.resolve for the joined peer (no token, token without the identity, grant
 * revoked, granted, the demo rule) against a real registry with a really trained student.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { sharedMedia } from '../testing/onboardingInputs';
import { SignallingTestClient } from '../testing/SignallingTestClient';
import { startTestServer } from '../testing/startTestServer';
import { studentCliMissing, trainedStudent } from '../testing/studentCli';
import { IdentityAccessError } from './IdentityAccess';
import { readStudentDir, sha256File } from './IdentityRegistry';

const ADMIN = 'auth-test-admin-token-0123456789';
const SECRET = 'auth-test-join-secret-0123456789-0123456789';
const consent = { subjectName: 'Sam Zero', uploadedBy: 'Operator One', statement: 'Sam agreed.', agreed: true as const, method: 'admin' as const };

let server: AvatarServer;
let dataDir: string;
const clients: SignallingTestClient[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'auth-test-'));
  server = await startTestServer({ onboarding: { dataDir, adminToken: ADMIN, joinTokenSecret: SECRET, requireJoinToken: true, jobConcurrency: 0 } });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function issue(body: object): Promise<string> {
  const res = await fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()).token;
}

async function joinWith(roomId: string, displayName: string, token?: string) {
  const c = await SignallingTestClient.connect(server.url);
  clients.push(c);
  const { rtpCapabilities } = await c.request('getRouterRtpCapabilities', { roomId });
  return c.raw({ method: 'join', data: { roomId, displayName, rtpCapabilities, ...(token ? { token } : {}) } });
}

/** A token signed like ours but with chosen claims / key. */
function craft(claims: Record<string, unknown>, o: { secret?: string; exp?: number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('avatar-call')
    .setAudience('join')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(o.secret ?? SECRET));
}

describe('the signalling join check', () => {
  it('refuses a join without a token where tokens are required, but lets anyone into the demo room', async () => {
    const none = await joinWith('standup', 'Sam');
    expect(none).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: 'room "standup" needs a join token' } });
    expect(await joinWith('demo', 'Anyone')).toMatchObject({ ok: true });
  });

  it('refuses an expired token, another room\'s token, a forged signature and a token for another name', async () => {
    const expired = await craft({ room: 'standup', name: 'Sam', identities: [] }, { exp: Math.floor(Date.now() / 1000) - 5 });
    expect(await joinWith('standup', 'Sam', expired)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: 'the join token has expired' } });
    const otherRoom = await issue({ roomId: 'other-room', displayName: 'Sam' });
    expect(await joinWith('standup', 'Sam', otherRoom)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/another room/) } });
    const forged = await craft({ room: 'standup', name: 'Sam', identities: ['anyone'] }, { secret: 'not-the-servers-secret-not-the-servers-secret' });
    expect(await joinWith('standup', 'Sam', forged)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: 'the join token signature is not valid' } });
    const tampered = (await issue({ roomId: 'standup', displayName: 'Sam' })).replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ room: 'standup', name: 'Sam', identities: ['x'], exp: 9e9, iss: 'avatar-call', aud: 'join' })).toString('base64url')}.`);
    expect(await joinWith('standup', 'Sam', tampered)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: 'the join token signature is not valid' } });
    expect(await joinWith('standup', 'Sam', 'not-a-jwt')).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    const forMallory = await issue({ roomId: 'standup', displayName: 'Mallory' });
    expect(await joinWith('standup', 'Sam', forMallory)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: 'the join token is for "Mallory", not "Sam"' } });
    expect(server.rooms.get('standup')?.peers.size ?? 0).toBe(0);
  });

  it('lets a valid token in and remembers the identities it names for the peer', async () => {
    const token = await issue({ roomId: 'standup', displayName: 'Sam', identities: ['demo'] });
    const joined = await joinWith('standup', 'Sam', token);
    expect(joined).toMatchObject({ ok: true });
    const peer = server.rooms.get('standup')!.peers.get((joined as { data: { peerId: string } }).data.peerId)!;
    expect(server.onboarding.joinAuthorizer.requester('standup', peer)).toEqual({ roomId: 'standup', peerId: peer.id, displayName: 'Sam', tokenIdentities: ['demo'] });
  });

  it('issues tokens only to the admin and only for identities that exist', async () => {
    const res = await fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"roomId":"r","displayName":"x"}' });
    expect(res.status).toBe(401);
    const unknown = await fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' }, body: '{"roomId":"r","displayName":"x","identities":["nobody-123"]}' });
    expect(unknown.status).toBe(404);
  });
});

describe.skipIf(studentCliMissing)('IdentityAccess for a joined peer (a really trained student)', () => {
  let identityId: string;

  beforeAll(async () => {
    const registry = server.onboarding.registry;
    for (const id of ['sam-test', 'demo']) {
      const tmpPath = join(registry.layout.tmp, `${id}.jpg`);
      copyFileSync(join(sharedMedia, 's0.jpg'), tmpPath);
      const { jobId } = registry.createIdentity({
        identityId: id,
        displayName: id === 'demo' ? 'Demo' : 'Sam',
        consent,
        actor: 'admin',
        source: { tmpPath, ext: 'jpg', kind: 'portrait', mime: 'image/jpeg', bytes: 1, sha256: await sha256File(tmpPath), width: 600, height: 704, durationS: null, rotation: 0 },
      });
      // The registry's own path for a finished job: claim it, put the CLI's output in place, record it.
      expect(registry.jobs.claimNext('auth-test')?.id).toBe(jobId);
      const out = await trainedStudent(registry.layout.jobOut(jobId));
      registry.addVersion({ identityId: id, jobId, runner: 'auth-test', outDir: out, manifest: readStudentDir(out) });
      registry.publish(id, 1, 'admin', registry.getVersion(id, 1).manifest.gates.passed ? undefined : { reason: 'test training of 20 steps' });
    }
    identityId = 'sam-test';
    registry.addGrant(identityId, { roomId: 'standup', participant: 'Sam' }, 'admin');
  });

  const requester = (tokenIdentities?: string[], roomId = 'standup', displayName = 'Sam') => ({ roomId, peerId: 'p1', displayName, ...(tokenIdentities ? { tokenIdentities } : {}) });
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'resolved';
    } catch (error) {
      return error instanceof IdentityAccessError ? error.code : String(error);
    }
  };

  it('refuses a peer without a token, with a token that does not name the identity, or outside its grant', async () => {
    const access = server.onboarding.access;
    expect(await codeOf(access.resolve(requester(), identityId))).toBe('IDENTITY_NOT_GRANTED');
    expect(await codeOf(access.resolve(requester(['demo']), identityId))).toBe('IDENTITY_NOT_GRANTED');
    expect(await codeOf(access.resolve(requester([identityId], 'other-room'), identityId))).toBe('IDENTITY_NOT_GRANTED');
    expect(await codeOf(access.resolve(requester([identityId], 'standup', 'Mallory'), identityId))).toBe('IDENTITY_NOT_GRANTED');
    expect(await codeOf(access.resolve(requester([identityId]), 'nobody-here'))).toBe('IDENTITY_NOT_FOUND');
  });

  it('resolves the published student for a granted token, and stops at once when the grant is revoked', async () => {
    const access = server.onboarding.access;
    const resolved = await access.resolve(requester([identityId]), identityId);
    expect(resolved).toMatchObject({ identityId, displayName: 'Sam', version: 1 });
    expect(resolved.modelPath.endsWith(resolved.manifest.model.file)).toBe(true);
    expect(await access.listGranted(requester([identityId]))).toEqual([{ identityId, displayName: 'Sam', version: 1 }]);
    server.onboarding.registry.removeGrant(identityId, { roomId: 'standup', participant: 'Sam' }, 'admin');
    expect(await codeOf(access.resolve(requester([identityId]), identityId))).toBe('IDENTITY_NOT_GRANTED');
  });

  it('lets anyone in the demo room drive the demo identity without a token, and nowhere else', async () => {
    const access = server.onboarding.access;
    expect((await access.resolve(requester(undefined, 'demo', 'Anyone'), 'demo')).identityId).toBe('demo');
    expect(await codeOf(access.resolve(requester(undefined, 'standup', 'Anyone'), 'demo'))).toBe('IDENTITY_NOT_GRANTED');
  });

  it('deleting the published version leaves a loaded session rendering, and refuses new ones', async () => {
    const access = server.onboarding.access;
    const resolved = await access.resolve(requester(undefined, 'demo', 'Anyone'), 'demo');
    const { InferenceSession, Tensor } = await import('onnxruntime-node');
    const session = await InferenceSession.create(resolved.modelPath, { intraOpNumThreads: 1 });
    const input = new Tensor('float32', Float32Array.from(resolved.manifest.identity.neutralLandmarks), [1, 478, 3]);
    const before = await session.run({ landmarks: input });
    server.onboarding.registry.deleteVersion('demo', resolved.version, 'admin');
    expect(existsSync(resolved.studentDir)).toBe(false);
    const after = await session.run({ landmarks: input });
    const size = resolved.manifest.model.outputSize;
    expect(after.frame?.dims).toEqual([1, size, size, 3]);
    expect(Buffer.from(after.frame!.data as Uint8Array).equals(Buffer.from(before.frame!.data as Uint8Array))).toBe(true);
    await session.release();
    expect(await codeOf(access.resolve(requester(undefined, 'demo', 'Anyone'), 'demo'))).toBe('IDENTITY_NOT_PUBLISHED');
  });
});
