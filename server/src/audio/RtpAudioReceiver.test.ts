import { beforeAll, describe, expect, it } from 'vitest';
import { RtpAudioReceiver, type PcmChunk } from './RtpAudioReceiver';
import { parseRtpPacket, seqDiff } from './rtpPacket';
import { ffmpegOpusRtp } from './testing/ffmpegOpusRtp';

/** Feeds packets 20 ms apart (optionally reordered/dropped) and collects the PCM stream. */
function run(packets: Buffer[], order: number[] = packets.map((_, i) => i)) {
  const rx = new RtpAudioReceiver({ reorderMs: 40 });
  const chunks: PcmChunk[] = [];
  rx.on('pcm', (c) => chunks.push(c));
  let now = 1000;
  for (const i of order) {
    rx.push(packets[i]!, now);
    now += 20;
    rx.tick(now);
  }
  rx.tick(now + 1000);
  const total = chunks.reduce((n, c) => n + c.samples.length, 0);
  const pcm = new Float32Array(total);
  let off = 0;
  for (const c of chunks) {
    expect(c.startSample).toBe(off); // continuous, RTP-timed
    pcm.set(c.samples, off);
    off += c.samples.length;
  }
  const stats = { ...rx.stats };
  rx.close();
  return { pcm, chunks, stats };
}

/** Amplitude of the `hz` component of pcm (16 kHz) by correlation. */
function tone(pcm: Float32Array, hz: number, from = 1600): number {
  let s = 0;
  let c = 0;
  for (let i = from; i < pcm.length; i++) {
    s += pcm[i]! * Math.sin((2 * Math.PI * hz * i) / 16000);
    c += pcm[i]! * Math.cos((2 * Math.PI * hz * i) / 16000);
  }
  return (2 * Math.hypot(s, c)) / (pcm.length - from);
}

describe('RtpAudioReceiver with real Opus RTP from ffmpeg', () => {
  let packets: Buffer[];
  beforeAll(async () => {
    packets = await ffmpegOpusRtp(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2']);
  });

  it('depacketises and decodes to 16 kHz with RTP timing', () => {
    expect(packets.length).toBeGreaterThanOrEqual(99);
    const first = parseRtpPacket(packets[0]!);
    expect(first.payloadType).toBe(100);
    expect(first.ssrc).toBe(1234);
    const { pcm, stats } = run(packets);
    expect(stats.lostPackets).toBe(0);
    expect(pcm.length).toBe(packets.length * 320);
    // ffmpeg's sine source is 1/8 full scale; the 440 Hz tone survives, 1 kHz is absent
    expect(tone(pcm, 440)).toBeGreaterThan(0.1);
    expect(tone(pcm, 1000)).toBeLessThan(0.01);
  });

  it('puts reordered packets back in order without counting a loss', () => {
    const order = packets.map((_, i) => i);
    for (let i = 10; i + 1 < order.length; i += 7) [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
    const inOrder = run(packets).pcm;
    const { pcm, stats } = run(packets, order);
    expect(stats.lostPackets).toBe(0);
    expect(stats.late).toBe(0);
    expect(pcm).toEqual(inOrder);
  });

  it('conceals 20% packet loss, counts it and keeps the timeline', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kept = packets.map((_, i) => i).filter((i) => i === 0 || i === packets.length - 1 || rand() >= 0.2);
    const dropped = packets.length - kept.length;
    const { pcm, stats, chunks } = run(packets, kept);
    expect(stats.lostPackets).toBe(dropped);
    expect(stats.concealedMs).toBeCloseTo(dropped * 20, 5);
    expect(stats.lossRate).toBeCloseTo(dropped / packets.length, 5);
    expect(pcm.length).toBe(packets.length * 320);
    expect(chunks.some((c) => c.kind === 'concealed')).toBe(true);
    expect(pcm.every((x) => Number.isFinite(x))).toBe(true);
    expect(tone(pcm, 440)).toBeGreaterThan(0.05);
  });

  it('drops duplicates and packets older than what was played, and survives garbage', () => {
    const rx = new RtpAudioReceiver();
    let samples = 0;
    rx.on('pcm', (c) => (samples += c.samples.length));
    rx.push(packets[0]!, 0);
    rx.push(packets[1]!, 20);
    rx.push(packets[1]!, 21);
    rx.push(packets[0]!, 40); // already played
    rx.push(Buffer.from([1, 2, 3]), 41);
    rx.push(Buffer.alloc(40, 0x40), 42); // version 1
    expect(rx.stats).toMatchObject({ duplicates: 0, late: 2, malformed: 2 });
    expect(samples).toBe(640);
    rx.close();
    rx.close();
  });

  it('treats a timestamp jump with consecutive sequence numbers as silence (DTX, mute)', () => {
    const shifted = packets.slice(0, 20).map((p, i) => {
      const q = Buffer.from(p);
      if (i >= 10) q.writeUInt32BE((q.readUInt32BE(4) + 48000) >>> 0, 4); // 1 s gap
      return q;
    });
    const { pcm, stats } = run(shifted);
    expect(stats.lostPackets).toBe(0);
    expect(stats.dtxMs).toBeCloseTo(1000, 5);
    expect(pcm.length).toBe(20 * 320 + 16000);
  });

  it('fills at most a second of a long mute and jumps the stream clock over the rest', () => {
    // a producer paused for 10 minutes: sequence numbers continue, the timestamp jumps
    const muted = packets.slice(0, 20).map((p, i) => {
      const q = Buffer.from(p);
      if (i >= 10) q.writeUInt32BE((q.readUInt32BE(4) + 600 * 48000) >>> 0, 4);
      return q;
    });
    const rx = new RtpAudioReceiver();
    const chunks: PcmChunk[] = [];
    rx.on('pcm', (c) => chunks.push(c));
    muted.forEach((p, i) => rx.push(p, i * 20));
    rx.close();
    const emitted = chunks.reduce((n, c) => n + c.samples.length, 0);
    expect(emitted).toBe(20 * 320 + 16000);
    expect(rx.stats.dtxMs).toBeCloseTo(600_000, 5);
    const after = chunks.find((c) => c.kind === 'decoded' && c.startSample > 10 * 320)!;
    expect(after.startSample).toBe(10 * 320 + 600 * 16000);
  });

  it('keeps the stream clock going forward when a sender restarts its timestamps', () => {
    const restarted = packets.slice(0, 20).map((p, i) => {
      const q = Buffer.from(p);
      if (i >= 10) q.writeUInt32BE((q.readUInt32BE(4) - 10 * 48000) >>> 0, 4); // 10 s back
      return q;
    });
    const { chunks } = run(restarted);
    for (let i = 1; i < chunks.length; i += 1) expect(chunks[i]!.startSample).toBeGreaterThan(chunks[i - 1]!.startSample);
    expect(chunks.at(-1)!.startSample).toBe(19 * 320);
  });

  it('seqDiff wraps', () => {
    expect(seqDiff(2, 65534)).toBe(4);
    expect(seqDiff(65534, 2)).toBe(-4);
  });
});
