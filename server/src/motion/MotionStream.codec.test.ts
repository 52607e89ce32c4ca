/**
 * The real shared codec through MotionStream: frames round-trip unchanged, and 10,000 random
 * and mutated packets are all counted and refused without disturbing a good stream after them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { decodeMotionPacket, loadMotionBasis, MAX_MOTION_PACKET_BYTES, MotionEncoder, type MotionFrame } from '@shared/motion';
import { fuzzMessage } from '@shared/motion/motionFuzz';
import { seededRandom } from '@shared/seededRandom';
import { MotionStream, type PlayedMotionFrame } from './MotionStream';
import { motionStreamConfigSchema, type MotionStreamConfig } from './motionStreamConfig';
import { sharedMotionCodec } from './sharedMotionCodec';
import { syntheticMotionSample as sample } from './syntheticMotionSample';

const basis = loadMotionBasis();

function makeStream(config: Partial<MotionStreamConfig> = {}) {
  const codec = sharedMotionCodec();
  return new MotionStream<MotionFrame>({
    peerId: 'peer-1',
    dataProducerId: 'dp-1',
    decode: codec.createDecoder(),
    maxPacketBytes: codec.maxPacketBytes,
    seqModulus: codec.seqModulus,
    config: motionStreamConfigSchema.parse(config),
    logger: pino({ level: 'silent' }),
    now: () => Date.now(),
  });
}

describe('MotionStream with the shared codec', () => {
  let stream: ReturnType<typeof makeStream>;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    stream?.close();
    vi.useRealTimers();
  });

  it('delivers every packet of a 30 fps stream, decoded exactly as the codec decodes it', () => {
    stream = makeStream();
    const encoder = new MotionEncoder(basis);
    const packets = new Map<number, Uint8Array>();
    const played: PlayedMotionFrame<MotionFrame>[] = [];
    stream.on('frame', (f) => played.push(f));
    for (let i = 0; i < 90; i += 1) {
      const packet = encoder.encode(sample(i, Date.now()));
      const seq = i;
      packets.set(seq, packet);
      // Through a Buffer at an offset, as mediasoup hands messages over.
      const pooled = Buffer.alloc(packet.byteLength + 7);
      pooled.set(packet, 7);
      stream.push(pooled.subarray(7), 53);
      vi.advanceTimersByTime(1000 / 30);
    }
    // 64-byte packets at 30/s: 15.4 kbit/s over the window that just ended.
    const kbps = stream.stats().kbps;
    expect(kbps).toBeGreaterThan(14);
    expect(kbps).toBeLessThan(17);
    vi.advanceTimersByTime(500);
    expect(played.map((f) => f.frame.seq)).toEqual([...packets.keys()]);
    for (const { frame } of played) {
      const direct = decodeMotionPacket(packets.get(frame.seq) as Uint8Array, basis);
      expect(direct.ok).toBe(true);
      if (direct.ok) expect(Array.from(frame.landmarks)).toEqual(Array.from(direct.frame.landmarks));
    }
    const stats = stream.stats();
    expect(stats).toMatchObject({ receivedPackets: 90, playedFrames: 90, lostFrames: 0, droppedTotal: 0 });
  });

  it('counts 10,000 random and mutated packets as bad, never throws, and a good stream flows after them', () => {
    // A generous bucket, so the packets reach the decoder instead of the rate limiter.
    stream = makeStream({ maxPacketsPerSecond: 100_000, burstPackets: 100_000 });
    const encoder = new MotionEncoder(basis);
    const templates: Uint8Array[] = [];
    for (let i = 0; i < 30; i += 1) {
      const packet = encoder.encode(sample(i, Date.now()));
      templates.push(packet);
      stream.push(packet, 53);
      vi.advanceTimersByTime(33);
    }
    vi.advanceTimersByTime(200);
    const before = stream.stats();
    expect(before.playedFrames).toBe(30);

    const random = seededRandom(20261122);
    let locallyInvalid = 0;
    const fuzzCount = 10_000;
    for (let i = 0; i < fuzzCount; i += 1) {
      const message = fuzzMessage(random, templates, MAX_MOTION_PACKET_BYTES);
      const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message;
      const ppid = typeof message === 'string' ? (message.length === 0 ? 56 : 51) : bytes.length === 0 ? 57 : 53;
      if (typeof message === 'string' || !decodeMotionPacket(bytes, basis).ok) locallyInvalid += 1;
      expect(() => stream.push(bytes, ppid)).not.toThrow();
      if (i % 10 === 0) vi.advanceTimersByTime(1);
    }
    const after = stream.stats();
    expect(after.receivedPackets - before.receivedPackets).toBe(fuzzCount);
    const dropped = after.droppedTotal - before.droppedTotal;
    // Every packet the codec refuses is dropped, and many that decode (rewritten seq/time) too.
    expect(dropped).toBeGreaterThanOrEqual(locallyInvalid);
    expect(locallyInvalid).toBeGreaterThan(fuzzCount * 0.7);
    expect(after.dropped.internal ?? 0).toBe(0);
    for (const reason of ['truncated', 'oversized', 'bad_version', 'bad_basis', 'not_binary']) {
      expect(after.dropped[reason], reason).toBeGreaterThan(0);
    }

    // The same encoder carries on (its sequence numbers continue): the stream recovers.
    vi.advanceTimersByTime(2000);
    const playedBefore = stream.stats().playedFrames;
    for (let i = 0; i < 120; i += 1) {
      stream.push(encoder.encode(sample(i, Date.now())), 53);
      vi.advanceTimersByTime(1000 / 30);
    }
    vi.advanceTimersByTime(500);
    expect(stream.stats().playedFrames - playedBefore).toBeGreaterThanOrEqual(80);
    expect(stream.latest()?.frame.seq).toBe((encoder.nextSeq - 1 + 65536) % 65536);
  });
});
