/**
 * The conference core end to end: the real server (mediasoup worker) and two real headless
 * Chromium peers with fake camera (a real talking-head clip) and microphone (real speech).
 * One server, browser and call are shared by the tests in this file, in order.
 */
import type { Browser } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signallingResponseSchema, type SignallingErrorCode } from '@shared/signalling';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { Room, RoomDataMessage } from '../../server/src/rooms/Room';
import type { ServerProducer, ServerProducerOptions } from '../../server/src/rooms/ServerProducer';
import { BrowserPeer, showsAvatarOf, type TileView } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m, speechWav } from '../support/fakeMedia';
import { FfmpegRtpSender } from '../support/FfmpegRtpSender';
import { beforeJoinCases, foreignIdCases, garbageCases, type MalformedCase, type VictimIds } from '../support/malformedSignalling';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

const roomId = 'e2e-call';

describe('a two-party call in real Chromium', () => {
  let server: AvatarServer;
  let browser: Browser;
  let alice: BrowserPeer;
  let bob: BrowserPeer;

  beforeAll(async () => {
    const [fakeVideo, fakeAudio] = await Promise.all([
      clipToY4m({ clip: 'd10.mp4', width: 320, height: 240, fps: 15, seconds: 4 }),
      speechWav(),
    ]);
    // The malformed-input test sends hundreds of requests per second on purpose: lift the
    // per-socket rate limit so each one reaches validation (the limiter has its own tests).
    server = await startTestServer({ limits: { requestsPerSecond: 100_000, requestBurst: 100_000 } });
    browser = await launchChromium({ fakeVideo, fakeAudio });
    alice = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Alice' });
    bob = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Bob' });
  });

  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** `viewer` decodes more of `other`'s video frames and audio samples over a few seconds. */
  const expectMediaFrom = async (viewer: BrowserPeer, other: BrowserPeer, when: string): Promise<void> => {
    const [video1, video2] = await viewer.expectRising(
      (s) => s.kind === 'video' && s.displayName === other.displayName,
      (s) => s.framesDecoded,
      { what: `${other.displayName}'s framesDecoded${when}` },
    );
    const [audio1, audio2] = await viewer.expectRising(
      (s) => s.kind === 'audio' && s.displayName === other.displayName,
      (s) => s.totalSamplesReceived,
      { what: `${other.displayName}'s totalSamplesReceived${when}` },
    );
    expect(video2).toBeGreaterThan(video1);
    expect(audio2).toBeGreaterThan(audio1);
  };

  /** A server-made VP8 track (ffmpeg's test pattern as RTP into a server producer), closed after the test. */
  const publishServerVp8 = async (
    room: Room,
    options: { displayName: string; ssrc: number; synthetic?: ServerProducerOptions['synthetic'] },
  ): Promise<{ producer: ServerProducer; ffmpeg: FfmpegRtpSender }> => {
    const producer = await room.addServerProducer({
      ...options,
      kind: 'video',
      source: 'avatar',
      codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90_000 },
    });
    cleanups.push(() => producer.close());
    const ffmpeg = FfmpegRtpSender.start({ port: producer.rtpPort, ssrc: options.ssrc, payloadType: 101 });
    cleanups.push(() => ffmpeg.close());
    return { producer, ffmpeg };
  };

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await browser?.close();
    await server?.close();
  });

  it("gives each peer the other's audio and video, with names on the tiles", async () => {
    for (const [viewer, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      await expectMediaFrom(viewer, other, '');
      expect(await viewer.remoteTileNames()).toEqual([other.displayName]);
      await viewer.page.waitForSelector(`.tile[data-peer-id="${await other.peerId()}"][data-state="live"]`);
    }
    const video = (await alice.inboundStats()).find((s) => s.kind === 'video');
    expect(video?.frameWidth).toBe(320);
    expect(video?.frameHeight).toBe(240);
    expect(server.rooms.get(roomId)?.peers.size).toBe(2);
  });

  it("shows the other side's paused camera, and live video again when it resumes", async () => {
    const bobId = await bob.peerId();
    const bobTile = alice.page.locator(`.tile[data-peer-id="${bobId}"]`);
    await bob.page.click('#toggle-camera');
    await expect.poll(() => bobTile.getAttribute('data-state')).toBe('video paused');
    expect(await bob.page.locator('#toggle-camera').textContent()).toBe('Start camera');
    await bob.page.click('#toggle-camera');
    await expect.poll(() => bobTile.getAttribute('data-state')).toBe('live');
    const [before, after] = await alice.expectRising(
      (s) => s.kind === 'video' && s.peerId === bobId,
      (s) => s.framesDecoded,
      { what: "Bob's framesDecoded after resuming" },
    );
    expect(after).toBeGreaterThan(before);
  });

  it("shows the other side's muted mic beside their live video, on their tile and on one's own", async () => {
    const bobId = await bob.peerId();
    const bobTile = alice.page.locator(`.tile[data-peer-id="${bobId}"]`);
    await bob.page.click('#toggle-mic');
    await expect.poll(() => bobTile.getAttribute('data-mic')).toBe('off');
    expect(await bobTile.getAttribute('data-state')).toBe('live');
    expect(await bobTile.locator('.tile-mic-off').isVisible()).toBe(true);
    expect(await bob.page.locator('.tile[data-local] .tile-mic-off').isVisible()).toBe(true);
    await bob.page.click('#toggle-mic');
    await expect.poll(() => bobTile.getAttribute('data-mic')).toBe('on');
    expect(await bobTile.locator('.tile-mic-off').isVisible()).toBe(false);
    expect(await bob.page.locator('.tile[data-local] .tile-mic-off').isVisible()).toBe(false);
  });

  it('delivers binary and text data-channel messages from the browser to server code byte-exact', async () => {
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room is gone');
    const received: RoomDataMessage[] = [];
    const onData = (message: RoomDataMessage): void => {
      if (message.label === 'e2e-probe') received.push(message);
    };
    room.on('data', onData);
    cleanups.push(() => room.off('data', onData));

    // Sizes span one byte to several SCTP chunks; content is a pattern both sides compute.
    const sizes = [1, 2, 255, 1024, 16_384, 65_536, 200_000];
    const pattern = (size: number, seed: number): Uint8Array =>
      Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
    const sent = await alice.page.evaluate(async ({ sizes }) => {
      const session = window.__call?.session;
      if (!session) throw new Error('not in a call');
      const channel = await session.createDataChannel('probe', 'e2e-probe');
      const make = (size: number, seed: number): Uint8Array =>
        Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
      sizes.forEach((size, seed) => channel.send(make(size, seed)));
      channel.send('héllo, server 👋');
      channel.send(new ArrayBuffer(0));
      return { dataProducerId: channel.id, peerId: session.peerId };
    }, { sizes });

    await waitFor(() => received.length >= sizes.length + 2, {
      timeoutMs: 20_000,
      message: `server code got ${received.length} of ${sizes.length + 2} data-channel messages`,
    });
    expect(received).toHaveLength(sizes.length + 2);
    sizes.forEach((size, seed) => {
      const message = received[seed];
      expect(message?.ppid).toBe(53); // WebRTC binary
      expect(message?.message.length).toBe(size);
      expect(Buffer.compare(message?.message ?? Buffer.alloc(0), Buffer.from(pattern(size, seed)))).toBe(0);
    });
    const text = received[sizes.length];
    expect(text?.ppid).toBe(51); // WebRTC string
    expect(text?.message.toString('utf8')).toBe('héllo, server 👋');
    const empty = received[sizes.length + 1];
    expect(empty?.ppid).toBe(57); // WebRTC empty binary
    expect(empty?.message.length).toBe(0);
    for (const message of received) {
      expect(message.dataProducerId).toBe(sent.dataProducerId);
      expect(message.peer.id).toBe(sent.peerId);
      expect(message.peer.displayName).toBe('Alice');
      expect(message.source).toBe('probe');
    }
  });

  it('lets the browsers consume a video track the server itself makes', async () => {
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room is gone');
    const { producer: serverProducer, ffmpeg } = await publishServerVp8(room, { displayName: 'Server camera', ssrc: 0x1234_5678 });

    for (const viewer of [alice, bob]) {
      const [first, second] = await viewer.expectRising(
        (s) => s.source === 'avatar' && s.kind === 'video',
        (s) => s.framesDecoded,
        { what: 'server track framesDecoded' },
      );
      expect(second).toBeGreaterThan(first);
      const tile = viewer.page.locator('.tile[data-kind="server"]');
      await expect.poll(() => tile.locator('.tile-name').textContent()).toBe('Server camera');
      await expect.poll(() => tile.getAttribute('data-state')).toBe('live');
    }
    const frame = (await alice.inboundStats()).find((s) => s.source === 'avatar');
    expect([frame?.frameWidth, frame?.frameHeight]).toEqual([320, 240]);
    expect(ffmpeg.running).toBe(true);

    // Closing it removes the server peer's tile from every page.
    await ffmpeg.close();
    expect(ffmpeg.running).toBe(false);
    serverProducer.close();
    for (const viewer of [alice, bob]) {
      await expect.poll(() => viewer.page.locator('.tile[data-kind="server"]').count(), { timeout: 10_000 }).toBe(0);
    }
  });

  it("shows an AI avatar inside its driver's tile: one tile per person, the voice and the label with it, the camera back when it closes", async () => {
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room is gone');
    const aliceId = (await alice.peerId()) as string;
    const bobId = (await bob.peerId()) as string;
    // What an avatar session publishes (AvatarSession.create): a server peer's VP8 track marked synthetic, driven by Alice.
    const { producer: avatar, ffmpeg } = await publishServerVp8(room, {
      displayName: 'Alice (AI avatar)',
      ssrc: 0x2345_6789,
      synthetic: { kind: 'ai-avatar', drivenByPeerId: aliceId, identityId: 'test' },
    });
    const remoteSource = (view: TileView['camera']) => (view && view !== 'local' ? view.source : view);

    // Bob: Alice's one tile shows her avatar instead of her camera, her voice still plays from it,
    // and no tile of its own for the server peer.
    const seenByBob = await bob.waitForTiles((tiles) => tiles.some((t) => t.peerId === aliceId && showsAvatarOf(t, aliceId) && t.state === 'live'),
      "Alice's avatar live in Alice's tile");
    expect(seenByBob.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    expect(seenByBob.find((t) => t.peerId === aliceId)).toMatchObject({
      name: 'Alice', kind: 'human', ownAvatar: false, cameraVisible: false, audio: { peerId: aliceId, source: 'mic' },
    });
    // Alice: her own avatar in her own tile, as the others see it; her camera preview stays, as an inset.
    const seenByAlice = await alice.waitForTiles((tiles) => tiles.some((t) => t.local && showsAvatarOf(t, aliceId)), 'her own avatar in her own tile');
    expect(seenByAlice.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    const own = seenByAlice.find((t) => t.local)!;
    expect(own).toMatchObject({ name: 'Alice (you)', ownAvatar: true, note: 'as others see you', camera: 'local', cameraVisible: true, audio: null });
    expect(seenByAlice.find((t) => t.peerId === bobId)).toMatchObject({ synthetic: null, aiLabelVisible: false, cameraVisible: true });

    // The avatar closes: Alice's tile is back on her camera everywhere, without the label.
    await ffmpeg.close();
    avatar.close();
    await bob.waitForTiles((tiles) => {
      const a = tiles.find((t) => t.peerId === aliceId);
      return tiles.length === 2 && a !== undefined && a.avatar === null && a.synthetic === null && !a.aiLabelVisible &&
        remoteSource(a.camera) === 'camera' && a.cameraVisible && a.state === 'live';
    }, "Alice's tile back on her camera");
    await alice.waitForTiles((tiles) => {
      const me = tiles.find((t) => t.local);
      return tiles.length === 2 && me !== undefined && me.avatar === null && !me.ownAvatar && me.note === null && !me.aiLabelVisible && me.cameraVisible;
    }, 'her own tile back on her camera preview');
  });

  it('answers 500+ malformed signalling messages with errors while the call keeps flowing', async () => {
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room is gone');
    const victims: VictimIds = { roomId, transportIds: [], producerIds: [], consumerIds: [], dataProducerIds: [] };
    for (const peer of room.peers.values()) {
      victims.transportIds.push(...peer.transports.keys());
      victims.producerIds.push(...peer.producers.keys());
      victims.consumerIds.push(...peer.consumers.keys());
      victims.dataProducerIds.push(...peer.dataProducers.keys());
    }
    expect(victims.producerIds.length).toBeGreaterThanOrEqual(4);

    const connect = async (): Promise<Socket> => {
      const socket = io(server.url, { transports: ['websocket'], reconnection: false });
      cleanups.push(() => socket.close());
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    };
    const send = async (socket: Socket, payload: unknown): Promise<unknown> =>
      socket.timeout(10_000).emitWithAck('request', payload);

    const answers: { name: string; expect?: SignallingErrorCode | SignallingErrorCode[]; response: unknown }[] = [];
    const fire = async (socket: Socket, cases: MalformedCase[]): Promise<void> => {
      // Fifty in flight at a time: out of order on the wire, as a flood would be.
      for (let i = 0; i < cases.length; i += 50) {
        const batch = cases.slice(i, i + 50);
        const responses = await Promise.all(batch.map((c) => send(socket, c.payload)));
        batch.forEach((c, j) => answers.push({ name: c.name, expect: c.expect, response: responses[j] }));
      }
    };

    // A stranger who never joins: garbage, and real calls made before joining.
    const stranger = await connect();
    await fire(stranger, [...beforeJoinCases(roomId), ...garbageCases(20_260_101, 300)]);
    // Requests without an ack callback are dropped by the server, not answered or crashed on.
    for (let i = 0; i < 50; i++) stranger.emit('request', { method: 'join', data: { roomId: i } });
    stranger.emit('not-a-real-event', { method: 'join' });

    // A peer in the same room as the browsers, trying their ids and calls out of order.
    const intruder = await connect();
    const caps = signallingResponseSchema.parse(await send(intruder, { method: 'getRouterRtpCapabilities', data: { roomId } }));
    if (!caps.ok) throw new Error('cannot read router capabilities');
    const joined = signallingResponseSchema.parse(
      await send(intruder, { method: 'join', data: { roomId, displayName: 'Intruder', rtpCapabilities: (caps.data as { rtpCapabilities: unknown }).rtpCapabilities } }),
    );
    expect(joined.ok).toBe(true);
    const created = signallingResponseSchema.parse(await send(intruder, { method: 'createWebRtcTransport', data: { direction: 'recv' } }));
    if (!created.ok) throw new Error('cannot create a transport');
    const ownRecv = (created.data as { transportId: string }).transportId;
    await fire(intruder, [
      ...foreignIdCases(victims, 7, 200),
      { name: 'produce on a receive transport', payload: { method: 'produce', data: { transportId: ownRecv, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 1 }] }, source: 'camera' } }, expect: 'BAD_REQUEST' },
      { name: 'resume a consumer that never existed', payload: { method: 'resumeConsumer', data: { consumerId: '11111111-1111-4111-8111-111111111111' } }, expect: 'NOT_FOUND' },
      ...garbageCases(99, 30),
    ]);

    // One frame larger than socket.io accepts: that socket is cut off, nothing else happens.
    const oversized = await connect();
    const cutOff = new Promise<string>((resolve) => oversized.once('disconnect', resolve));
    oversized.emit('request', { method: 'join', data: { junk: 'x'.repeat(400_000) } }, () => undefined);
    expect(await cutOff).toBeTruthy();

    expect(answers.length).toBeGreaterThanOrEqual(500);
    const codes = new Map<string, number>();
    for (const answer of answers) {
      const response = signallingResponseSchema.safeParse(answer.response);
      expect(response.success, `${answer.name}: malformed answer ${JSON.stringify(answer.response)}`).toBe(true);
      if (!response.success) continue;
      expect(response.data.ok, `${answer.name} was accepted`).toBe(false);
      if (response.data.ok) continue;
      codes.set(response.data.error.code, (codes.get(response.data.error.code) ?? 0) + 1);
      if (answer.expect) {
        expect([answer.expect].flat(), `${answer.name}: got ${response.data.error.code} (${response.data.error.message})`).toContain(response.data.error.code);
      }
    }
    expect([...codes.keys()].sort()).toEqual(expect.arrayContaining(['ALREADY_JOINED', 'BAD_REQUEST', 'NOT_FOUND', 'NOT_JOINED', 'PAYLOAD_TOO_LARGE']));

    // The server is up, the browsers are still in the call, and their media still flows.
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(room.closed).toBe(false);
    expect(room.peers.has((await alice.peerId()) ?? '')).toBe(true);
    expect(room.peers.has((await bob.peerId()) ?? '')).toBe(true);
    await expectMediaFrom(alice, bob, ' after the flood');
    await expectMediaFrom(bob, alice, ' after the flood');
    expect(alice.problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
