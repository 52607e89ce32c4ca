/**
 * MotionService against the real mediasoup worker: a peer's 'motion' DataProducer (here on a
 * server-side DirectTransport, so no browser is needed) feeds the Room's DataConsumer, whose
 * `data` events open that peer's MotionStream, fill Prometheus and reach the peer's page as
 * `motionStats` notifications; the stream closes with its producer or its peer.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MotionEncoder, loadMotionBasis, type MotionFrame } from '@shared/motion';
import type { SignallingNotification } from '@shared/signalling';
import { loadConfig } from '../config';
import { WorkerPool } from '../media/WorkerPool';
import { ServerMetrics } from '../metrics/ServerMetrics';
import type { Peer, PeerDataProducer, TransportAppData } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { RoomRegistry } from '../rooms/RoomRegistry';
import { MotionMetrics } from './MotionMetrics';
import { MotionService } from './MotionService';
import type { MotionStream } from './MotionStream';
import { sharedMotionCodec } from './sharedMotionCodec';
import { syntheticMotionSample } from './syntheticMotionSample';

const config = loadConfig({}, { mediasoup: { numWorkers: 1 }, motion: { statsIntervalMs: 100 } });
const logger = pino({ level: 'silent' });
let pool: WorkerPool;
let metrics: ServerMetrics;
let rooms: RoomRegistry;
let service: MotionService<MotionFrame>;

beforeAll(async () => {
  metrics = new ServerMetrics();
  pool = await WorkerPool.create({ numWorkers: 1, logLevel: 'error', restartDelayMs: 1000, logger, metrics });
});
afterAll(() => pool.close());

afterEach(() => {
  service?.close();
  rooms?.close();
});

function start(): void {
  metrics = new ServerMetrics();
  rooms = new RoomRegistry({ pool, config, logger, metrics });
  service = new MotionService({
    rooms,
    codec: sharedMotionCodec(),
    config: config.motion,
    metrics: new MotionMetrics(metrics.registry),
    logger,
  });
}

async function joinWithMotionChannel(room: Room, name: string) {
  const inbox: SignallingNotification[] = [];
  const peer = room.join({ displayName: name, rtpCapabilities: room.rtpCapabilities, notify: (n) => inbox.push(n) });
  const dataProducer = await openMotionChannel(room, peer);
  return { peer, inbox, dataProducer };
}

/** A 'motion' DataProducer on a DirectTransport owned by the peer: node sends what a page would. */
async function openMotionChannel(room: Room, peer: Peer): Promise<PeerDataProducer> {
  const transport = await room.router.createDirectTransport<TransportAppData>({
    maxMessageSize: 262_144,
    appData: { peerId: peer.id, direction: 'send' },
  });
  peer.addTransport(transport);
  return room.produceData(peer, {
    transportId: transport.id,
    sctpStreamParameters: { streamId: 0 }, // ignored on a DirectTransport
    label: 'motion',
    protocol: '',
    source: 'motion',
  });
}

/** Sends `count` frames at 30 fps in real time. */
async function sendFrames(dataProducer: PeerDataProducer, encoder: MotionEncoder, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const packet = encoder.encode(syntheticMotionSample(i, performance.timeOrigin + performance.now()));
    dataProducer.send(Buffer.from(packet), 53);
    await new Promise((resolve) => setTimeout(resolve, 1000 / 30));
  }
}

async function streamOf(roomId: string, peerId: string): Promise<MotionStream<MotionFrame>> {
  for (let i = 0; i < 100; i += 1) {
    const stream = service.stream(roomId, peerId);
    if (stream) return stream;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no motion stream opened');
}

describe('MotionService', () => {
  it('opens a stream on the first motion message, plays it out, exports metrics and pushes stats', async () => {
    start();
    const room = await rooms.getOrCreate('motion-unit');
    const { peer, inbox, dataProducer } = await joinWithMotionChannel(room, 'Ava');
    const opened = once(service, 'streamopened');
    await sendFrames(dataProducer, new MotionEncoder(loadMotionBasis()), 30);
    const [stream] = (await opened) as [MotionStream<MotionFrame>];
    expect(stream.dataProducerId).toBe(dataProducer.id);
    expect(service.stream(room.id, peer.id)).toBe(stream);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.stats()).toMatchObject({ receivedPackets: 30, playedFrames: 30, droppedTotal: 0, lostFrames: 0 });
    expect(stream.latest()?.frame.seq).toBe(29);

    dataProducer.send('not motion', 51);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.stats().dropped).toEqual({ not_binary: 1 });

    const stats = inbox.filter((n) => n.type === 'motionStats');
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.at(-1)?.data).toMatchObject({ dataProducerId: dataProducer.id, playedFrames: 30 });

    const text = await metrics.registry.metrics();
    const labels = `room="motion-unit",peer="${peer.id}"`;
    expect(text).toContain(`avatar_motion_packets_received_total{${labels}} 31`);
    expect(text).toContain(`avatar_motion_packets_dropped_total{${labels},reason="not_binary"} 1`);
    expect(text).toContain(`avatar_motion_frames_played_total{${labels}} 30`);
    expect(text).toMatch(new RegExp(`avatar_motion_jitter_ms\\{${labels}\\} \\d`));
    expect(text).toMatch(new RegExp(`avatar_motion_uplink_kbps\\{${labels}\\} \\d`));
    expect(text).toContain('avatar_motion_streams 1');
  });

  it('closes the stream with its DataProducer and forgets its metric series', async () => {
    start();
    const room = await rooms.getOrCreate('motion-unit-2');
    const { peer, dataProducer } = await joinWithMotionChannel(room, 'Ava');
    await sendFrames(dataProducer, new MotionEncoder(loadMotionBasis()), 3);
    const stream = await streamOf(room.id, peer.id);
    const closed = once(stream, 'close');
    room.closeDataProducer(peer, dataProducer.id);
    await closed;
    expect(service.stream(room.id, peer.id)).toBeUndefined();
    const text = await metrics.registry.metrics();
    expect(text).not.toContain(`peer="${peer.id}"`);
    expect(text).toContain('avatar_motion_streams 0');
  });

  it('keeps one stream per peer: a new motion channel replaces the old stream', async () => {
    start();
    const room = await rooms.getOrCreate('motion-unit-3');
    const { peer, dataProducer } = await joinWithMotionChannel(room, 'Ava');
    await sendFrames(dataProducer, new MotionEncoder(loadMotionBasis()), 3);
    const first = await streamOf(room.id, peer.id);
    const second = await openMotionChannel(room, peer);
    await sendFrames(second, new MotionEncoder(loadMotionBasis()), 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.closed).toBe(true);
    expect(service.stream(room.id, peer.id)?.dataProducerId).toBe(second.id);
    expect(service.streams).toHaveLength(1);
  });

  it('closes the stream when its peer leaves, and every stream when the service closes', async () => {
    start();
    const room = await rooms.getOrCreate('motion-unit-4');
    const a = await joinWithMotionChannel(room, 'Ava');
    const b = await joinWithMotionChannel(room, 'Bo');
    await Promise.all([
      sendFrames(a.dataProducer, new MotionEncoder(loadMotionBasis()), 3),
      sendFrames(b.dataProducer, new MotionEncoder(loadMotionBasis()), 3),
    ]);
    const streamA = await streamOf(room.id, a.peer.id);
    const streamB = await streamOf(room.id, b.peer.id);
    a.peer.close();
    expect(streamA.closed).toBe(true);
    expect(streamB.closed).toBe(false);
    service.close();
    expect(streamB.closed).toBe(true);
    service.close();
  });
});
