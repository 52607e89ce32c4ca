/**
 * MotionStreamSource over the real motion uplink: a 'motion' DataProducer on a server-side
 * DirectTransport (what a page sends), the Room's DataConsumer, MotionService's stream; the source
 * follows the peer's stream, also when a new channel replaces it, and stops with `close()`.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MotionEncoder, loadMotionBasis, type MotionFrame } from '@shared/motion';
import { loadConfig } from '../config';
import { WorkerPool } from '../media/WorkerPool';
import { ServerMetrics } from '../metrics/ServerMetrics';
import type { Peer, PeerDataProducer, TransportAppData } from '../rooms/Peer';
import type { Room } from '../rooms/Room';
import { RoomRegistry } from '../rooms/RoomRegistry';
import { MotionMetrics } from '../motion/MotionMetrics';
import { MotionService } from '../motion/MotionService';
import { sharedMotionCodec } from '../motion/sharedMotionCodec';
import { syntheticMotionSample } from '../motion/syntheticMotionSample';
import { MotionStreamSource } from './MotionStreamSource';

const config = loadConfig({}, { mediasoup: { numWorkers: 1 } });
const logger = pino({ level: 'silent' });
let pool: WorkerPool;
let rooms: RoomRegistry;
let service: MotionService<MotionFrame>;

beforeAll(async () => {
  pool = await WorkerPool.create({ numWorkers: 1, logLevel: 'error', restartDelayMs: 1000, logger, metrics: new ServerMetrics() });
});
afterAll(() => pool.close());
afterEach(() => {
  service?.close();
  rooms?.close();
});

async function openMotionChannel(room: Room, peer: Peer): Promise<PeerDataProducer> {
  const transport = await room.router.createDirectTransport<TransportAppData>({ maxMessageSize: 262_144, appData: { peerId: peer.id, direction: 'send' } });
  peer.addTransport(transport);
  return room.produceData(peer, { transportId: transport.id, sctpStreamParameters: { streamId: 0 }, label: 'motion', protocol: '', source: 'motion' });
}

async function send(dataProducer: PeerDataProducer, encoder: MotionEncoder, count: number, from = 0): Promise<number> {
  let lastCapture = 0;
  for (let i = from; i < from + count; i += 1) {
    lastCapture = performance.timeOrigin + performance.now();
    dataProducer.send(Buffer.from(encoder.encode(syntheticMotionSample(i, lastCapture))), 53);
    await new Promise((r) => setTimeout(r, 1000 / 30));
  }
  return lastCapture;
}

describe('MotionStreamSource', () => {
  it("follows the peer's motion stream, across a replaced channel, in the driver's image space", async () => {
    const metrics = new ServerMetrics();
    rooms = new RoomRegistry({ pool, config, logger, metrics });
    service = new MotionService({ rooms, codec: sharedMotionCodec(), config: config.motion, metrics: new MotionMetrics(metrics.registry), logger });
    const room = await rooms.getOrCreate('source-unit');
    const peer = room.join({ displayName: 'Ava', rtpCapabilities: room.rtpCapabilities, notify: () => undefined });
    // The session starts before the first packet: the source waits for the stream.
    const source = new MotionStreamSource(service, room.id, peer.id);
    expect(source.latest()).toBeUndefined();
    const encoder = new MotionEncoder(loadMotionBasis());
    const first = await openMotionChannel(room, peer);
    const lastCapture = await send(first, encoder, 12);
    await new Promise((r) => setTimeout(r, 150)); // jitter buffer
    const sample = source.latest();
    expect(sample?.space).toBe('driver');
    expect(sample?.imageWidth).toBe(640);
    expect(sample?.landmarks.length).toBe(478 * 3);
    expect(Math.abs((sample?.originCaptureTimeMs ?? 0) - lastCapture)).toBeLessThan(1);
    expect(sample!.availableAtMs).toBeGreaterThanOrEqual(sample!.captureTimeMs);
    const seq = sample!.seq;

    // A new motion channel replaces the stream; the source follows it.
    first.close();
    const second = await openMotionChannel(room, peer);
    await send(second, new MotionEncoder(loadMotionBasis()), 8, 100);
    await new Promise((r) => setTimeout(r, 150));
    expect(source.latest()!.seq).toBeGreaterThan(seq);

    source.close();
    const after = source.latest()!.seq;
    await send(second, encoder, 4, 200);
    await new Promise((r) => setTimeout(r, 150));
    expect(source.latest()!.seq).toBe(after);
    expect(source.closed).toBe(true);
  });
});
