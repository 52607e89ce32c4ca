import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvatarServer } from './AvatarServer';
import { SignallingTestClient } from './testing/SignallingTestClient';
import { startTestServer } from './testing/startTestServer';

let server: AvatarServer;
const clients: SignallingTestClient[] = [];
const connect = async () => {
  const client = await SignallingTestClient.connect(server.url);
  clients.push(client);
  return client;
};

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('AvatarServer HTTP', () => {
  it('answers /health', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown rooms, bad room ids and unknown API routes with JSON errors', async () => {
    const missing = await fetch(`${server.url}/api/rooms/nobody-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'room "nobody-here" not found' } });
    const bad = await fetch(`${server.url}/api/rooms/${encodeURIComponent('a b')}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('BAD_REQUEST');
    const route = await fetch(`${server.url}/api/nope/deeper`);
    expect(route.status).toBe(404);
    expect((await route.json()).error.code).toBe('NOT_FOUND');
  });

  it('describes a room with its peers, producers and worker', async () => {
    const alice = await connect();
    const { peerId } = await alice.join('rest-room', 'Alice');
    const res = await fetch(`${server.url}/api/rooms/rest-room`);
    const body = await res.json();
    expect(body).toMatchObject({
      id: 'rest-room',
      workerPid: server.workers.workers[0]!.pid,
      peers: [{ id: peerId, displayName: 'Alice', kind: 'human' }],
      producers: [],
    });
    // Nobody is in avatar mode: the motion view lists no streams (unknown rooms answer 404 as above).
    expect(await (await fetch(`${server.url}/api/rooms/rest-room/motion`)).json()).toEqual({ room: 'rest-room', peers: [] });
    expect((await fetch(`${server.url}/api/rooms/nobody-here/motion`)).status).toBe(404);
    alice.close();
    await expect.poll(() => server.rooms.get('rest-room')).toBeUndefined();
  });

  it('serves Prometheus metrics from its own registry', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^avatar_mediasoup_workers 1$/m);
    expect(text).toMatch(/avatar_signalling_requests_total\{method="join",outcome="ok"\} \d+/);
    expect(text).toMatch(/avatar_mediasoup_worker_cpu_seconds\{pid="\d+"\} [\d.]+/);
  });

  it('serves the face landmarker model', async () => {
    const res = await fetch(`${server.url}/models/face_landmarker.task`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1_000_000);
  });
});

describe('AvatarServer client files', () => {
  let dir: string;
  let own: AvatarServer | undefined;
  afterAll(async () => {
    await own?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the built client for /room/:id and its assets, and says clearly when it is missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'avatar-client-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>call</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    own = await startTestServer({ clientDistDir: dir, faceLandmarkerModelPath: join(dir, 'missing.task') });
    const page = await fetch(`${own.url}/room/demo`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>call</title>');
    expect((await fetch(`${own.url}/app.js`)).status).toBe(200);
    expect((await fetch(`${own.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/room/demo');
    const badRoom = await fetch(`${own.url}/room/${encodeURIComponent('no spaces')}`);
    expect(badRoom.status).toBe(400);
    const model = await fetch(`${own.url}/models/face_landmarker.task`);
    expect(model.status).toBe(404);
    expect((await model.json()).error.code).toBe('NOT_FOUND');
    const nothing = await fetch(`${own.url}/no/such/file.js`);
    expect(nothing.status).toBe(404);
    expect(await nothing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'not found' } });

    rmSync(join(dir, 'index.html'));
    const unbuilt = await fetch(`${own.url}/room/demo`);
    expect(unbuilt.status).toBe(503);
    expect((await unbuilt.json()).error).toEqual({
      code: 'CLIENT_NOT_BUILT',
      message: 'the browser client is not built: run `npm run build:client`',
    });
  });
});

describe('server-made tracks', () => {
  let ffmpeg: ChildProcess | undefined;
  afterAll(() => {
    ffmpeg?.kill('SIGKILL');
  });

  it('appear to clients as a server peer whose producer they can consume, fed by RTP', async () => {
    const alice = await connect();
    await alice.join('server-track', 'Alice');
    const room = server.rooms.get('server-track')!;
    const ssrc = 22_334_455;
    const track = await room.addServerProducer({
      displayName: 'Test pattern',
      kind: 'video',
      source: 'avatar',
      codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
      ssrc,
    });
    const joined = await alice.waitFor('peerJoined');
    expect(joined.data.peer).toEqual({ id: track.peer.id, displayName: 'Test pattern', kind: 'server' });
    const announced = await alice.waitFor('newProducer');
    expect(announced.data).toEqual({ producerId: track.producer.id, peerId: track.peer.id, kind: 'video', source: 'avatar', paused: false });

    // A late joiner sees it in the join answer.
    const bob = await connect();
    const bobJoin = await bob.join('server-track', 'Bob');
    expect(bobJoin.peers.map((p) => p.kind).sort()).toEqual(['human', 'server']);
    expect(bobJoin.producers).toContainEqual(announced.data);
    const recv = await bob.request('createWebRtcTransport', { direction: 'recv' });
    const consumed = await bob.request('consume', { transportId: recv.transportId, producerId: track.producer.id });
    expect(consumed).toMatchObject({ kind: 'video', source: 'avatar', peerId: track.peer.id });
    expect(JSON.stringify(consumed.rtpParameters)).toContain('video/VP8');

    ffmpeg = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30',
      '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', '-g', '30',
      '-payload_type', '101', '-ssrc', String(ssrc),
      '-f', 'rtp', `rtp://127.0.0.1:${track.rtpPort}`,
    ], { stdio: 'ignore' });
    await expect
      .poll(async () => (await track.producer.getStats())[0]?.packetCount ?? 0, { timeout: 15_000, interval: 200 })
      .toBeGreaterThan(30);
    const [stats] = await track.producer.getStats();
    expect(stats?.mimeType).toBe('video/VP8');
    expect(stats?.ssrc).toBe(ssrc);

    track.close();
    await bob.waitFor('producerClosed', (n) => n.data.producerId === track.producer.id);
    await bob.waitFor('peerLeft', (n) => n.data.peerId === track.peer.id);
    await bob.waitFor('consumerClosed', (n) => n.data.consumerId === consumed.consumerId);
  });
});

describe('AvatarServer.close', () => {
  it('tells joined clients the server is shutting down, is idempotent, and frees the port', async () => {
    const own = await startTestServer();
    const client = await SignallingTestClient.connect(own.url);
    try {
      await client.join('shutdown', 'Alice');
      const closing = Promise.all([own.close(), own.close()]);
      const notice = await client.waitFor('roomClosed');
      expect(notice.data.reason).toBe('serverShutdown');
      await closing;
      expect(own.workers.workers).toHaveLength(0);
      await expect(fetch(`${own.url}/health`)).rejects.toThrow();
    } finally {
      client.close();
      await own.close();
    }
  });
});
