/**
 * Avatar rendering through a real server: real mediasoup worker, real ONNX student in a worker
 * thread, real ffmpeg encoders, the signalling methods as a page calls them. Motion comes from a
 * recorded track (ReplayMotionSource) instead of a browser (the e2e test covers the browser).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { startTestServer } from '../testing/startTestServer';
import { SignallingTestClient } from '../testing/SignallingTestClient';
import { loadMotionLibraryTrack } from '../../../test/support/motionLibraryTrack';
import { listenerAudioDelayMs } from './AvatarService';
import { ReplayMotionSource } from './ReplayMotionSource';
import { testStudentDir } from './testStudent';

let server: AvatarServer;
let brokenDir: string;
let unloadableDir: string;
const clients: SignallingTestClient[] = [];
const sources: ReplayMotionSource[] = [];
const track = loadMotionLibraryTrack('d10');

beforeAll(async () => {
  brokenDir = mkdtempSync(join(tmpdir(), 'broken-student-'));
  cpSync(testStudentDir(), brokenDir, { recursive: true });
  writeFileSync(join(brokenDir, 'student.onnx'), Buffer.from('corrupted bytes, not a model'));
  // Passes its sha256 check (the manifest names these bytes) but is no ONNX model: fails at load.
  unloadableDir = mkdtempSync(join(tmpdir(), 'unloadable-student-'));
  const notAModel = Buffer.from('not an onnx model, though the manifest names its sha256');
  const manifest = JSON.parse(readFileSync(join(testStudentDir(), 'manifest.json'), 'utf8'));
  manifest.model.sha256 = createHash('sha256').update(notAModel).digest('hex');
  delete manifest.model.int8;
  writeFileSync(join(unloadableDir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(unloadableDir, 'student.onnx'), notAModel);
  server = await startTestServer({
    // one room per test, created in quick succession
    limits: { roomCreationBurstPerAddress: 50 },
    avatar: {
      identities: [
        { identityId: 'demo', displayName: 'Demo', studentDir: testStudentDir() },
        { identityId: 'other', displayName: 'Someone else', studentDir: testStudentDir() },
        { identityId: 'broken', displayName: 'Broken', studentDir: brokenDir },
        { identityId: 'unloadable', displayName: 'Unloadable', studentDir: unloadableDir },
      ],
      roomGrants: { '*': ['demo', 'broken', 'unloadable'], keepcalib: ['other'] },
      blinksPerMinute: [22, 25],
      inference: { restartDelayMs: 100 },
      avSyncExtraMs: 100,
      avSyncAudioExtraMs: 7,
      maxSessions: 3,
    },
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sources.splice(0)) s.close();
});
afterAll(async () => {
  await server.close();
  rmSync(brokenDir, { recursive: true, force: true });
  rmSync(unloadableDir, { recursive: true, force: true });
});

async function joined(roomId: string, name: string) {
  const client = await SignallingTestClient.connect(server.url);
  clients.push(client);
  const join = await client.join(roomId, name);
  const room = server.rooms.get(roomId)!;
  const peer = room.peers.get(join.peerId)!;
  return { client, room, peer };
}

function replay(offset = 0): ReplayMotionSource {
  const source = new ReplayMotionSource({ frames: track.frames, width: track.width, height: track.height, fps: 25, offset });
  sources.push(source);
  return source;
}

/** Live ffmpeg processes started by this test process (read from /proc). */
function ffmpegChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && comm.startsWith('ffmpeg') && state !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we read it
    }
  }
  return pids;
}

function avatarPeers(room: { peers: ReadonlyMap<string, { kind: string }> }): number {
  return [...room.peers.values()].filter((p) => p.kind !== 'human').length;
}

describe('AvatarService', () => {
  it('serialises overlapping startAvatar requests of one peer: the last one wins, one session and producer remain', async () => {
    const { client, room } = await joined('overlap', 'Alice');
    const answers = await Promise.all([0, 1, 2].map(() => client.raw({ method: 'startAvatar', data: { identityId: 'demo' } })));
    const ok = answers.filter((a) => a.ok);
    // the superseded starts are refused as cancelled; the last one is answered with the live avatar
    expect(answers[2]!.ok).toBe(true);
    expect(new Set(ok.map((a) => (a.ok ? (a.data as { producerId: string }).producerId : '')))).toHaveProperty('size', 1);
    for (const a of answers) if (!a.ok) expect(a.error.message).toMatch(/cancelled/);
    expect(server.avatars.sessions).toHaveLength(1);
    expect(avatarPeers(room)).toBe(1);
    const producerId = (answers[2] as { data: { producerId: string } }).data.producerId;
    expect(server.avatars.sessions[0]!.producerId).toBe(producerId);
    await expect.poll(() => ffmpegChildren().length, { timeout: 3000 }).toBe(server.avatars.sessions[0]!.encoderPids.length);
    expect(server.avatars.models.size).toBe(1);
    await client.request('stopAvatar', {});
    expect(server.avatars.sessions).toHaveLength(0);
    expect(avatarPeers(room)).toBe(0);
    await expect.poll(() => ffmpegChildren().length, { timeout: 3000 }).toBe(0);
  });

  it('frees everything after start/stop pairs sent without waiting, and a stop right after a start stops it', async () => {
    const { client, room } = await joined('pairs', 'Alice');
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i += 1) {
      requests.push(client.raw({ method: 'startAvatar', data: { identityId: 'demo' } }));
      requests.push(client.raw({ method: 'stopAvatar', data: {} }));
    }
    const answers = (await Promise.all(requests)) as { ok: boolean }[];
    // every stop is answered ok, and only once its avatar is gone
    expect(answers.filter((_, i) => i % 2 === 1).every((a) => a.ok)).toBe(true);
    expect(server.avatars.sessions).toHaveLength(0);
    expect(avatarPeers(room)).toBe(0);
    expect(server.avatars.models.size).toBe(0);
    await expect.poll(() => ffmpegChildren().length, { timeout: 3000 }).toBe(0);

    // a start whose model and producer are being built when the stop arrives
    const started = client.raw({ method: 'startAvatar', data: { identityId: 'demo' } });
    await client.waitFor('avatarState', (n) => n.data.state === 'starting');
    await client.request('stopAvatar', {});
    await started;
    expect(server.avatars.sessions).toHaveLength(0);
    expect(avatarPeers(room)).toBe(0);
    await expect.poll(() => ffmpegChildren().length, { timeout: 3000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(server.avatars.sessions).toHaveLength(0);
    expect(avatarPeers(room)).toBe(0);
  });

  it("renders another signal's mouth when the source carries a mouth override (camera face, voice mouth)", async () => {
    const { client, room, peer } = await joined('mouth', 'Alice');
    const source = replay();
    let applied = 0;
    // A stand-in for the voice: the lower inner lip 8 % of the face height below the upper one.
    Object.assign(source, {
      mouth: {
        apply: (landmarks: Float32Array) => {
          applied += 1;
          const out = Float32Array.from(landmarks);
          const height = Math.hypot(out[10 * 3]! - out[152 * 3]!, out[10 * 3 + 1]! - out[152 * 3 + 1]!);
          out[14 * 3] = out[13 * 3]!;
          out[14 * 3 + 1] = out[13 * 3 + 1]! + 0.08 * height;
          return out;
        },
      },
    });
    const session = await server.avatars.start(room, peer, 'demo', source);
    await client.waitFor('avatarState', (n) => n.data.state === 'live', 5000);
    const from = session.recentFrames().length;
    await new Promise((r) => setTimeout(r, 800));
    const live = session.recentFrames().slice(from).filter((f) => f.state === 'live');
    expect(live.length).toBeGreaterThan(0);
    expect(applied).toBeGreaterThan(0);
    for (const f of live) expect(f.mouthOpen).toBeCloseTo(0.08, 3);
    await server.avatars.stop(peer);
  });

  it("a switch to another identity keeps the driver's calibration: no second 'look at the camera'", async () => {
    const { client, room, peer } = await joined('keepcalib', 'Alice');
    const first = await server.avatars.start(room, peer, 'demo', replay());
    await client.waitFor('avatarState', (n) => n.data.state === 'live', 5000);
    const neutral = first.driverNeutral;
    expect(neutral).toBeDefined();
    const seen = client.notifications.length;
    const second = await server.avatars.start(room, peer, 'other', replay(40));
    expect(second).not.toBe(first);
    await client.waitFor('avatarState', (n) => n.data.identityId === 'other' && n.data.state === 'live', 5000);
    const states = client.notifications.slice(seen).flatMap((n) => (n.type === 'avatarState' && n.data.identityId === 'other' ? [n.data.state] : []));
    expect(states).not.toContain('calibrating');
    expect(second.recentFrames().some((f) => f.state === 'calibrating')).toBe(false);
    // the same face, copied (the new session refines its own copy)
    expect(second.driverNeutral).not.toBe(neutral);
    expect(Array.from(second.driverNeutral!.pose.translation)).toEqual(Array.from(neutral!.pose.translation));
    await server.avatars.stop(peer);
  });

  it('a refused switch (unknown identity, unloadable model, no microphone for a voice mouth or voice driver) leaves the running avatar', async () => {
    const { client, room } = await joined('switch', 'Alice');
    const { producerId } = await client.request('startAvatar', { identityId: 'demo' });
    await expect(client.request('startAvatar', { identityId: 'unloadable' })).rejects.toThrow(/UNAVAILABLE.*failed to load/);
    expect(server.avatars.sessions.map((s) => s.producerId)).toEqual([producerId]);
    await expect(client.request('startAvatar', { identityId: 'nobody', mouth: 'voice' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.request('startAvatar', { identityId: 'demo', mouth: 'voice' })).rejects.toThrow(/BAD_REQUEST.*mouth from your voice needs a published microphone/);
    await expect(client.request('startAvatar', { identityId: 'demo', driver: 'audio' })).rejects.toThrow(/BAD_REQUEST.*needs a published microphone/);
    expect(server.avatars.sessions).toHaveLength(1);
    expect(server.avatars.sessions[0]!.producerId).toBe(producerId);
    expect(avatarPeers(room)).toBe(1);
    await client.request('stopAvatar', {});
  });

  it('renders at most avatar.maxSessions avatars at once and refuses one more with UNAVAILABLE', async () => {
    const peers = await Promise.all(['A', 'B', 'C', 'D'].map((name) => joined('capacity', name)));
    for (const { room, peer } of peers.slice(0, 3)) await server.avatars.start(room, peer, 'demo', replay());
    const fourth = peers[3]!;
    await expect(fourth.client.request('startAvatar', { identityId: 'demo' })).rejects.toThrow(/UNAVAILABLE.*at most 3 avatars/);
    // a peer that already has one may still switch it
    await server.avatars.start(peers[0]!.room, peers[0]!.peer, 'demo', replay(), { kind: 'replay-2' });
    expect(server.avatars.sessions).toHaveLength(3);
    for (const { peer } of peers) await server.avatars.stop(peer);
    expect(server.avatars.sessions).toHaveLength(0);
  });

  it('refuses the starts beyond avatar.maxSessions even when they all arrive at once', async () => {
    const peers = await Promise.all(['A', 'B', 'C', 'D'].map((name) => joined('capacity-race', name)));
    const results = await Promise.allSettled(peers.map(({ room, peer }) => server.avatars.start(room, peer, 'demo', replay())));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/at most 3 avatars/);
    expect(server.avatars.sessions).toHaveLength(3);
    for (const { peer } of peers) await server.avatars.stop(peer);
    expect(server.avatars.sessions).toHaveLength(0);
  });

  it('closes a session, and its owner hears it, even when releasing the model fails', async () => {
    const { room, peer } = await joined('release-fails', 'Alice');
    const session = await server.avatars.start(room, peer, 'demo', replay());
    const { models } = server.avatars;
    const release = models.release.bind(models);
    models.release = async (model) => {
      await release(model);
      throw new Error('release failed');
    };
    try {
      const closed = once(session, 'close');
      await server.avatars.stop(peer);
      await closed;
    } finally {
      models.release = release;
    }
    expect(server.avatars.sessions).toHaveLength(0);
    expect(avatarPeers(room)).toBe(0);
    expect(models.size).toBe(0);
  });

  it('closes a motion source it was given but did not use (the same identity is already running)', async () => {
    const { room, peer } = await joined('unused-source', 'Alice');
    const first = await server.avatars.start(room, peer, 'demo', replay());
    const unused = replay();
    expect(await server.avatars.start(room, peer, 'demo', unused)).toBe(first);
    expect(unused.closed).toBe(true);
    await server.avatars.stop(peer);
  });

  it('lists only the identities granted in the room', async () => {
    const { client } = await joined('grants', 'Alice');
    const { identities } = await client.request('listIdentities', {});
    expect(identities.map((i) => i.identityId).sort()).toEqual(['broken', 'demo', 'unloadable']);
  });

  it('refuses an identity that is not granted, unknown, or whose model is corrupted, with clear errors; the call goes on', async () => {
    const { client, room } = await joined('refusals', 'Alice');
    await expect(client.request('startAvatar', { identityId: 'other' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(client.request('startAvatar', { identityId: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.request('startAvatar', { identityId: 'broken' })).rejects.toThrow(/UNAVAILABLE.*(corrupted|does not match)/);
    const state = await client.waitFor('avatarState', (n) => n.data.state === 'error');
    expect(state.data.message).toBeTruthy();
    expect([...room.peers.values()].every((p) => p.kind === 'human')).toBe(true);
    expect(server.avatars.sessions).toHaveLength(0);
    // still in the call
    await client.request('createWebRtcTransport', { direction: 'recv' });
  });

  it('publishes a synthetic avatar track ticking at the configured rate (every tick sent or counted), and frees everything on stop', async () => {
    const { client, room, peer } = await joined('live', 'Alice');
    const session = await server.avatars.start(room, peer, 'demo', replay());
    const announced = await client.waitFor('newProducer', (n) => n.data.producerId === session.producerId);
    expect(announced.data.synthetic).toEqual({ kind: 'ai-avatar', drivenByPeerId: peer.id, identityId: 'demo' });
    expect(announced.data.source).toBe('avatar');
    await client.waitFor('avatarState', (n) => n.data.state === 'live', 5000);
    const before = session.stats();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const stats = session.stats();
    // Every tick is accounted for: sent, dropped (counted) or skipped as late — none vanishes.
    // (The rate itself depends on the student and the CPU: bench:avatars and the e2e measure it.)
    const ticks = ((performance.now() - t0) / 1000) * 25;
    const dropped = (s: typeof stats) => Object.values(s.framesDropped).reduce((a, b) => a + b, 0);
    const accounted = stats.framesSent - before.framesSent + dropped(stats) - dropped(before) + stats.lateTicks - before.lateTicks;
    expect(accounted).toBeGreaterThanOrEqual(0.85 * ticks);
    expect(stats.framesSent - before.framesSent).toBeGreaterThanOrEqual(5);
    expect(stats.keyframes).toBeGreaterThanOrEqual(1);
    const [producerStats] = await session.serverProducer.producer.getStats();
    expect(producerStats?.packetCount ?? 0).toBeGreaterThan(40);
    expect(producerStats?.mimeType).toBe('video/VP8');
    const pids = session.encoderPids;
    expect(server.avatars.models.size).toBe(1);

    await client.request('stopAvatar', {});
    await client.waitFor('producerClosed', (n) => n.data.producerId === session.producerId);
    expect(session.closed).toBe(true);
    expect(server.avatars.models.size).toBe(0);
    expect(room.peers.size).toBe(1);
    expect(session.serverProducer.transport.closed).toBe(true);
    expect(session.serverProducer.producer.closed).toBe(true);
    expect(server.metrics.registry.getSingleMetric('avatar_render_sessions')).toBeDefined();
    expect((await server.metrics.registry.getSingleMetricAsString('avatar_render_sessions')).trim().endsWith(' 0')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it("lip sync for a voice-driven source: listeners' voice delay = the measured delay + avSyncAudioExtraMs, and the driver's stats show it with the voice → mouth figures", async () => {
    const { client, room, peer } = await joined('voice-sync', 'Alice');
    const { client: listener } = await joined('voice-sync', 'Bob');
    const audioToLip = { speechToMouthMsP50: 150, speechToMouthMsP95: 210, lookaheadMs: 112.5, inferenceMsP50: 3 };
    // a voice-driven source is one with audioToLip (AudioMotionSource); the motion itself is replayed here
    const source = Object.assign(replay(), { audioToLip: () => audioToLip, blinks: 3 });
    const session = await server.avatars.start(room, peer, 'demo', source);
    const stats = await client.waitFor('avatarStats', (n) => n.data.avSync?.audioDelayMs != null, 10_000);
    expect(stats.data.audioToLip).toEqual(audioToLip);
    expect(stats.data.blinks).toBeGreaterThanOrEqual(3); // the source's own blinks are counted in
    const sync = stats.data.avSync!;
    expect(sync.extraMs).toBe(7);
    // sent when it moves by ≥ 10 ms: the applied delay is within 10 ms of the current measurement + extra
    expect(Math.abs(sync.audioDelayMs! - (sync.measuredDelayMs! + 7))).toBeLessThan(10.5);
    const told = await listener.waitFor('avatarSync', (n) => n.data.peerId === peer.id && n.data.audioDelayMs > 0);
    expect(told.data.audioDelayMs).toBeGreaterThanOrEqual(7);
    expect(listenerAudioDelayMs(123.4, 7)).toBe(130);
    expect(listenerAudioDelayMs(-50, 7)).toBe(0);
    expect(listenerAudioDelayMs(5000, 100)).toBe(4000);
    expect(server.avatars.stats(session).avSync?.extraMs).toBe(7);
    await client.request('stopAvatar', {});
    // a camera-driven session keeps the camera's extra
    const camera = await server.avatars.start(room, peer, 'demo', replay());
    expect(server.avatars.stats(camera).avSync?.extraMs).toBe(100);
    expect(server.avatars.stats(camera).audioToLip).toBeUndefined();
    await client.request('stopAvatar', {});
  });

  it('answers a consumer key frame request (PLI) with a key frame within 200 ms', async () => {
    const { room, peer } = await joined('pli', 'Alice');
    const session = await server.avatars.start(room, peer, 'demo', replay());
    // A connected plain consumer (RTP goes to a socket that ignores it), as a remote viewer.
    const sink = createSocket('udp4');
    sink.bind(0, '127.0.0.1');
    await once(sink, 'listening');
    const transport = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await transport.connect({ ip: '127.0.0.1', port: sink.address().port });
    const consumer = await transport.consume({ producerId: session.producerId, rtpCapabilities: room.rtpCapabilities });
    await new Promise((r) => setTimeout(r, 1500));
    const before = session.stats().keyframes;
    for (let i = 0; i < 3; i += 1) {
      await consumer.requestKeyFrame();
      await new Promise((r) => setTimeout(r, 700));
    }
    const stats = session.stats();
    expect(stats.keyframeRequests).toBeGreaterThanOrEqual(1);
    expect(stats.keyframes).toBeGreaterThan(before);
    console.log(`PLI → key frame sent: median ${session.keyframeLatency.quantile(0.5)?.toFixed(1)} ms, max ${session.keyframeLatency.quantile(1)?.toFixed(1)} ms`);
    expect(session.keyframeLatency.quantile(1)).toBeLessThan(200);
    transport.close();
    sink.close();
  });

  it('keeps sending frames with blinks when motion stops, and resumes within 2 s after the render worker crashes', async () => {
    const { room, peer } = await joined('idle', 'Alice');
    const source = replay();
    const session = await server.avatars.start(room, peer, 'demo', source);
    await new Promise((r) => setTimeout(r, 1500));
    source.pause();
    const sentBefore = session.stats().framesSent;
    const blinksBefore = session.stats().blinks;
    await new Promise((r) => setTimeout(r, 5000));
    const idle = session.stats();
    expect(idle.state).toBe('idle');
    // frames keep coming without motion (the rate is the CPU's: ≥ 1 per second even when starved)
    expect(idle.framesSent - sentBefore).toBeGreaterThanOrEqual(5);
    expect(idle.blinks).toBeGreaterThan(blinksBefore);

    const model = (await server.avatars.models.acquire(session.identity.modelPath, session.identity.manifest));
    await server.avatars.models.release(model);
    const crashedAt = performance.now();
    const restarted = once(model, 'restarted');
    model.crashForTest();
    await restarted;
    const rendered = session.stats().framesRendered;
    await expect.poll(() => session.stats().framesRendered, { timeout: 2000, interval: 20 }).toBeGreaterThan(rendered);
    expect(performance.now() - crashedAt).toBeLessThan(2000);
    expect(session.stats().workerRestarts).toBe(1);
  });

  it('closes the avatar when its driver leaves', async () => {
    const { client, room, peer } = await joined('leave', 'Alice');
    const { client: bob } = await joined('leave', 'Bob');
    const session = await server.avatars.start(room, peer, 'demo', replay());
    await bob.waitFor('newProducer', (n) => n.data.producerId === session.producerId);
    client.close();
    await bob.waitFor('producerClosed', (n) => n.data.producerId === session.producerId);
    expect(session.closed).toBe(true);
    expect(server.avatars.sessions).toHaveLength(0);
  });
});

describe('AvatarService logs', () => {
  let logged: { level: number; msg: string; err?: { stack?: string } }[];
  let quiet: AvatarServer;

  beforeAll(async () => {
    logged = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    quiet = await startTestServer(
      { avatar: { identities: [{ identityId: 'demo', displayName: 'Demo', studentDir: testStudentDir() }, { identityId: 'other', displayName: 'Other', studentDir: testStudentDir() }], roomGrants: { '*': ['demo'] } } },
      { logger },
    );
  });
  afterAll(async () => {
    await quiet.close();
  });

  it('logs refusals and a driver leaving during start-up without errors or stack traces', async () => {
    const alice = await SignallingTestClient.connect(quiet.url);
    clients.push(alice);
    await alice.join('logs', 'Alice');
    await expect(alice.request('startAvatar', { identityId: 'other' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(alice.request('startAvatar', { identityId: 'nobody' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const refusals = logged.filter((r) => /avatar refused/.test(r.msg));
    expect(refusals).toHaveLength(2);
    for (const r of refusals) expect(r.level).toBeLessThanOrEqual(40);

    const bob = await SignallingTestClient.connect(quiet.url);
    clients.push(bob);
    await bob.join('logs-leave', 'Bob');
    void bob.raw({ method: 'startAvatar', data: { identityId: 'demo' } }).catch(() => undefined);
    await bob.waitFor('avatarState', (n) => n.data.state === 'starting');
    bob.close();
    await expect.poll(() => logged.some((r) => /left before its avatar/.test(r.msg)), { timeout: 5000 }).toBe(true);
    const left = logged.find((r) => /left before its avatar/.test(r.msg))!;
    expect(left.level).toBe(40);
    expect(quiet.avatars.sessions).toHaveLength(0);
    // nothing at error level, and no stack trace anywhere
    expect(logged.filter((r) => r.level >= 50).map((r) => r.msg)).toEqual([]);
    expect(logged.filter((r) => JSON.stringify(r).includes('"stack"')).map((r) => r.msg)).toEqual([]);
  });
});
