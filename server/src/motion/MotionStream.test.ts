/**
 * MotionStream's checks, buffering and statistics. The decoder here is a minimal test format
 * (seq, capture time, one landmark value) so each check can be hit precisely; the real codec
 * goes through the stream in MotionStream.codec.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { MotionStream, type PlayedMotionFrame } from './MotionStream';
import { motionStreamConfigSchema, type MotionStreamConfig } from './motionStreamConfig';
import type { DecodedMotionFrame, MotionDecodeOutcome } from './motionTypes';

const BINARY = 53;
const STRING = 51;
const PACKET_BYTES = 14;

/** Test packet: u16 seq, f64 capture time, f32 value copied into every landmark coordinate. */
function packet(seq: number, captureTimeMs: number, value = 0.5): Uint8Array {
  const bytes = new Uint8Array(PACKET_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, seq, true);
  view.setFloat64(2, captureTimeMs, true);
  view.setFloat32(10, value, true);
  return bytes;
}

function decode(bytes: Uint8Array): MotionDecodeOutcome<DecodedMotionFrame> {
  if (bytes.byteLength < PACKET_BYTES) return { ok: false, error: 'truncated', message: 'short' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    ok: true,
    frame: {
      seq: view.getUint16(0, true),
      captureTimeMs: view.getFloat64(2, true),
      landmarks: new Float32Array(478 * 3).fill(view.getFloat32(10, true)),
      pose: { rotation: new Float32Array(9), translation: new Float32Array(3), scale: 1 },
      imageWidth: 640,
      imageHeight: 480,
    },
  };
}

function makeStream(config: Partial<MotionStreamConfig> = {}) {
  return new MotionStream({
    peerId: 'peer-1',
    dataProducerId: 'dp-1',
    decode,
    maxPacketBytes: 64,
    seqModulus: 65536,
    config: motionStreamConfigSchema.parse(config),
    logger: pino({ level: 'silent' }),
    now: () => Date.now(),
  });
}

describe('MotionStream', () => {
  let stream: ReturnType<typeof makeStream>;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    stream?.close();
    vi.useRealTimers();
  });

  it('plays frames out in capture order after the target delay, despite reordering', () => {
    stream = makeStream({ targetDelayMs: 60 });
    const played: number[] = [];
    stream.on('frame', (f) => played.push(f.frame.seq));
    // Capture clock of the sender starts at 5000; packets 1 and 2 arrive swapped.
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(40);
    stream.push(packet(2, 5066), BINARY);
    vi.advanceTimersByTime(10);
    stream.push(packet(1, 5033), BINARY);
    expect(played).toEqual([]);
    vi.advanceTimersByTime(10); // t = 60: frame 0 falls due
    expect(played).toEqual([0]);
    vi.advanceTimersByTime(70);
    expect(played).toEqual([0, 1, 2]);
    expect(stream.latest()?.frame.seq).toBe(2);
    const stats = stream.stats();
    expect(stats.playedFrames).toBe(3);
    expect(stats.lostFrames).toBe(0);
    expect(stats.droppedTotal).toBe(0);
  });

  it('drops a frame that arrives after a later one was played, and counts it late', () => {
    stream = makeStream({ targetDelayMs: 20 });
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(33);
    stream.push(packet(2, 5066), BINARY);
    vi.advanceTimersByTime(100);
    stream.push(packet(1, 5033), BINARY);
    expect(stream.stats().dropped).toEqual({ late: 1 });
  });

  it('counts lost frames from sequence gaps', () => {
    stream = makeStream();
    for (const seq of [0, 1, 2, 5, 6, 9]) {
      stream.push(packet(seq, 5000 + seq * 33), BINARY);
      vi.advanceTimersByTime(33);
    }
    expect(stream.stats().lostFrames).toBe(4);
  });

  it('refuses string messages, oversized and truncated packets, each counted by reason', () => {
    stream = makeStream();
    stream.push(new TextEncoder().encode('hello'), STRING);
    stream.push(new Uint8Array(65), BINARY);
    stream.push(new Uint8Array(3), BINARY);
    stream.push(new Uint8Array(0), 57);
    expect(stream.stats().dropped).toEqual({ not_binary: 1, oversized: 1, truncated: 2 });
    expect(stream.stats().receivedPackets).toBe(4);
  });

  it('refuses NaN and out-of-range landmark values', () => {
    stream = makeStream();
    stream.push(packet(0, 5000, Number.NaN), BINARY);
    stream.push(packet(1, 5033, 42), BINARY);
    stream.push(packet(2, 5066, Number.POSITIVE_INFINITY), BINARY);
    expect(stream.stats().dropped).toEqual({ bad_value: 3 });
  });

  it('refuses capture times from the future and from long ago', () => {
    stream = makeStream({ maxFutureMs: 250, maxAgeMs: 1000 });
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(33);
    stream.push(packet(1, 9_000_000), BINARY);
    stream.push(packet(2, 1000), BINARY);
    expect(stream.stats().dropped).toEqual({ future: 1, stale: 1 });
  });

  it('refuses duplicates and a forged sequence jump', () => {
    stream = makeStream();
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(33);
    stream.push(packet(0, 5000), BINARY);
    stream.push(packet(30_000, 5033), BINARY);
    expect(stream.stats().dropped).toEqual({ duplicate: 1, seq_jump: 1 });
  });

  it('rate-limits a flood to its token bucket and keeps serving afterwards', () => {
    stream = makeStream({ maxPacketsPerSecond: 60, burstPackets: 30 });
    // 1000 packets in one second.
    for (let i = 0; i < 1000; i += 1) {
      stream.push(packet(i % 65536, 5000 + i), BINARY);
      vi.advanceTimersByTime(1);
    }
    const flooded = stream.stats();
    expect(flooded.dropped.rate_limited).toBeGreaterThanOrEqual(1000 - 30 - 61);
    expect(flooded.dropped.rate_limited).toBeLessThanOrEqual(1000 - 30 - 59);
    vi.advanceTimersByTime(1000);
    const before = stream.stats().playedFrames;
    for (let i = 0; i < 30; i += 1) {
      stream.push(packet(1000 + i, 7000 + i * 33), BINARY);
      vi.advanceTimersByTime(33);
    }
    vi.advanceTimersByTime(200);
    expect(stream.stats().playedFrames - before).toBe(30);
  });

  it('re-anchors its clock when the sender clock jumps, and flows again', () => {
    stream = makeStream({ clockResyncAfterPackets: 5 });
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(33);
    const played: number[] = [];
    stream.on('frame', (f) => played.push(f.frame.seq));
    // The sender's clock jumps 10 minutes ahead.
    for (let i = 1; i <= 20; i += 1) {
      stream.push(packet(i, 600_000 + i * 33), BINARY);
      vi.advanceTimersByTime(33);
    }
    vi.advanceTimersByTime(200);
    expect(stream.stats().dropped.future).toBe(5);
    expect(stream.stats().clockResyncs).toBe(1);
    expect(played.length).toBeGreaterThanOrEqual(14);
  });

  it('reports RFC 3550 jitter of capture versus arrival times', () => {
    stream = makeStream({ targetDelayMs: 200 });
    // Alternate 20 ms and 46 ms spacing against a 33 ms capture interval: |D| = 13 ms.
    for (let i = 0; i < 200; i += 1) {
      stream.push(packet(i, 5000 + i * 33), BINARY);
      vi.advanceTimersByTime(i % 2 === 0 ? 20 : 46);
    }
    expect(stream.stats().jitterMs).toBeGreaterThan(12);
    expect(stream.stats().jitterMs).toBeLessThan(14);
  });

  it('reports uplink kbps and the age of the latest played frame', () => {
    stream = makeStream({ targetDelayMs: 60 });
    for (let i = 0; i < 90; i += 1) {
      stream.push(packet(i, 5000 + i * (1000 / 30)), BINARY);
      vi.advanceTimersByTime(1000 / 30);
    }
    const stats = stream.stats();
    // 14 bytes × 30/s × 8 = 3.36 kbps
    expect(stats.kbps).toBeGreaterThan(3.0);
    expect(stats.kbps).toBeLessThan(3.7);
    expect(stats.ageMs).toBeGreaterThanOrEqual(60);
    expect(stats.ageMs).toBeLessThan(60 + 34);
    vi.advanceTimersByTime(1000);
    expect(stream.stats().ageMs).toBeGreaterThan(1000);
  });

  it('serves played frames to an async iterator until it closes', async () => {
    stream = makeStream({ targetDelayMs: 0 });
    const seen: PlayedMotionFrame<DecodedMotionFrame>[] = [];
    const reading = (async () => {
      for await (const f of stream.frames()) seen.push(f);
    })();
    for (let i = 0; i < 5; i += 1) {
      stream.push(packet(i, 5000 + i * 33), BINARY);
      await vi.advanceTimersByTimeAsync(33);
    }
    stream.close();
    await reading;
    expect(seen.map((f) => f.frame.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('closes once, emits close, and ignores packets afterwards', () => {
    stream = makeStream();
    const onClose = vi.fn();
    stream.on('close', onClose);
    stream.close();
    stream.close();
    stream.push(packet(0, 5000), BINARY);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(stream.stats().receivedPackets).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('survives a listener that throws', () => {
    stream = makeStream({ targetDelayMs: 0 });
    stream.on('frame', () => {
      throw new Error('renderer bug');
    });
    stream.push(packet(0, 5000), BINARY);
    vi.advanceTimersByTime(1);
    stream.push(packet(1, 5033), BINARY);
    vi.advanceTimersByTime(40);
    expect(stream.stats().playedFrames).toBe(2);
  });
});
