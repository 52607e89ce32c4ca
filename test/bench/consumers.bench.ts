/**
 * How many consumers of one VP8 + one Opus producer one mediasoup worker sustains here.
 *
 *   npm run bench:consumers [-- --counts 0,10,50,100,200,400,600,800 --seconds 5]
 *
 * One worker, one room (the server's own Room: Router + server producers on PlainTransports).
 * ffmpeg feeds the producers as RTP: a real talking-head clip (../shared/media) encoded once to
 * VP8 640x480@30 ~1 Mbps (libvpx realtime) + Opus 64 kbps, then streamed in a loop with -c copy.
 * Delivery = packets the consumers sent / packets their producers received over the same
 * worker snapshots; forwarded pkt/s = expected pkt/s (producer rate × N) × delivery.
 * For each N, N subscribers each get a PlainTransport with one VP8 and one Opus consumer:
 * most send to a UDP port that never reads (no receiver competing for the 2 cores), a sample
 * sends to counting sockets in this process. Per N it prints the expected packet rate
 * (producer rate × N), what the worker forwarded (consumer stats), what the sample received,
 * the input loss at the producers (RTP sequence gaps: the worker not reading its socket in time)
 * and the CPU% of the worker, ffmpeg and this process, read from /proc/<pid>/stat. A row is
 * "sustained" when end-to-end delivery (forwarded / what ffmpeg sent) ≥ 99% and the worker is
 * below 99% CPU.
 * The baseline is the N = 0 row of the same run: the worker only receiving.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { pino } from 'pino';
import { z } from 'zod';
import { parseBenchArgs } from './benchArgs';
import { loadConfig } from '../../server/src/config';
import { ServerMetrics } from '../../server/src/metrics/ServerMetrics';
import { Room } from '../../server/src/rooms/Room';
import { ProcessCpu } from './consumers/ProcessCpu';
import { UdpBlackhole } from './consumers/UdpBlackhole';
import { UdpCounter } from './consumers/UdpCounter';

const argsSchema = z.object({
  counts: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated integers')
    .transform((s) => s.split(',').map(Number))
    .default([0, 10, 50, 100, 200, 400, 600, 800]),
  seconds: z.coerce.number().positive().max(120).default(5),
  warmupSeconds: z.coerce.number().min(0).max(60).default(2),
  sampled: z.coerce.number().int().min(0).max(100).default(10),
  clip: z.string().min(1).default(fileURLToPath(new URL('../../../shared/media/WDA_KatieHill_000.mp4', import.meta.url))),
});

type Subscriber = { transport: ms.PlainTransport; consumers: ms.Consumer[]; counter?: UdpCounter };
type Row = {
  subscribers: number;
  consumers: number;
  producerPps: number;
  /** Packets lost between ffmpeg and the producers (sequence gaps): the worker not keeping up with its input. */
  inputLossPct: number;
  expectedPps: number;
  forwardedPps: number;
  deliveryPct: number;
  /** Of the packets ffmpeg sent, the share forwarded to each consumer: delivery × (1 − input loss). */
  endToEndPct: number;
  sampledPct: number | null;
  workerCpuPct: number;
  ffmpegCpuPct: number;
  benchCpuPct: number;
  /** 1-minute load average of the machine during the window (other work competes for the cores). */
  loadAvg: number;
};

const VIDEO_SSRC = 1111;
const AUDIO_SSRC = 2222;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One subscriber's counters at one instant. A consumer's getStats() returns its own
 * outbound-rtp stats AND its producer's inbound-rtp stats from the same worker snapshot, so
 * forwarded/expected compare the very same interval, whatever the order we poll in.
 */
type Snapshot = { at: number; forwarded: number; expected: number; received: number };

async function snapshot(subscriber: Subscriber): Promise<Snapshot> {
  let forwarded = 0;
  let expected = 0;
  for (const consumer of subscriber.consumers) {
    for (const stat of await consumer.getStats()) {
      if (stat.type === 'outbound-rtp') forwarded += stat.packetCount;
      else if (stat.type === 'inbound-rtp') expected += stat.packetCount;
    }
  }
  return {
    at: performance.now(),
    forwarded,
    expected,
    received: subscriber.counter?.packetsOf(subscriber.consumers.map((c) => c.rtpParameters.encodings?.[0]?.ssrc ?? 0)) ?? 0,
  };
}

/** Packets the producers received, and those their sequence numbers say were lost on the way in. */
async function producerPackets(producers: ms.Producer[]): Promise<number> {
  return (await producerCounts(producers)).received;
}

async function producerCounts(producers: ms.Producer[]): Promise<{ received: number; lost: number }> {
  let received = 0;
  let lost = 0;
  for (const producer of producers) {
    for (const stat of await producer.getStats()) {
      received += stat.packetCount;
      lost += stat.packetsLost;
    }
  }
  return { received, lost };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(argsSchema);
  const logger = pino({ level: 'warn' });
  const config = loadConfig({}, { limits: { maxPeersPerRoom: 10_000, emptyRoomTimeoutMs: 3_600_000 } });
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const room = await Room.create({ id: 'bench', worker, config, logger, metrics: new ServerMetrics() });
  const blackhole = await UdpBlackhole.create();
  const subscribers: Subscriber[] = [];
  let ffmpeg: ReturnType<typeof spawn> | undefined;
  let clip: { path: string; dir: string } | undefined;

  const cleanup = () => {
    ffmpeg?.kill('SIGKILL');
    if (clip) rmSync(clip.dir, { recursive: true, force: true });
    for (const s of subscribers) s.counter?.close();
    blackhole.close();
    room.close();
    worker.close();
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    const video = await room.addServerProducer({
      displayName: 'bench video',
      kind: 'video',
      source: 'camera',
      codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
      ssrc: VIDEO_SSRC,
    });
    const audio = await room.addServerProducer({
      displayName: 'bench audio',
      kind: 'audio',
      source: 'mic',
      codec: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 },
      ssrc: AUDIO_SSRC,
    });
    // Encode once, then stream the file with -c copy: the RTP rate stays steady even when the
    // machine is busy (a live encoder falls behind and then bursts to catch up).
    clip = await encodeClip(args.clip);
    ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip.path],
        ...['-map', '0:v', '-c:v', 'copy', '-payload_type', '101', '-ssrc', String(VIDEO_SSRC)],
        ...['-f', 'rtp', `rtp://127.0.0.1:${video.rtpPort}?pkt_size=1200`],
        ...['-map', '0:a', '-c:a', 'copy', '-payload_type', '100', '-ssrc', String(AUDIO_SSRC)],
        ...['-f', 'rtp', `rtp://127.0.0.1:${audio.rtpPort}`],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const ffmpegCpu = new ProcessCpu(ffmpeg.pid!);
    const workerCpu = new ProcessCpu(worker.pid);
    const benchCpu = new ProcessCpu(process.pid);

    // Wait until both producers receive media.
    for (let i = 0; ; i++) {
      const [v, a] = await Promise.all([producerPackets([video.producer]), producerPackets([audio.producer])]);
      if (v > 30 && a > 10) break;
      if (i > 100) throw new Error('ffmpeg RTP did not reach the producers within 10 s');
      await sleep(100);
    }

    const rows: Row[] = [];
    let producerKbps = 0;
    for (const target of args.counts) {
      // Grow (or shrink) the subscriber set to `target`.
      while (subscribers.length > target) {
        const s = subscribers.pop()!;
        s.transport.close();
        s.counter?.close();
      }
      const added: Subscriber[] = [];
      while (subscribers.length < target) {
        // Batches of 25 in parallel: creating hundreds one by one takes long on a busy machine.
        const batch = Math.min(25, target - subscribers.length);
        const created = await Promise.all(
          Array.from({ length: batch }, (_, k) => addSubscriber(room, [video.producer, audio.producer], blackhole, subscribers.length + k < args.sampled)),
        );
        subscribers.push(...created);
        added.push(...created);
      }
      // A new video consumer forwards nothing until the next keyframe (ffmpeg ignores PLI): wait
      // until every new consumer has sent something so the window measures steady forwarding.
      for (let waited = 0; ; waited += 500) {
        const idle = (await Promise.all(added.map(snapshot))).filter((s, i) => s.forwarded < added[i]!.consumers.length);
        if (idle.length === 0) break;
        if (waited > 30_000) throw new Error(`${idle.length} subscribers forwarded nothing for 30 s`);
        await sleep(500);
      }
      await sleep(args.warmupSeconds * 1000);

      const consumers = subscribers.flatMap((s) => s.consumers);
      const sampledSubs = subscribers.filter((s) => s.counter);
      // Order matters under load: the producers and the few sampled subscribers are read first
      // (quick, so their clocks are accurate), then every subscriber in one big batch.
      const read = async () => {
        const producer = await producerCounts([video.producer, audio.producer]);
        const at = performance.now();
        const bytes = (await video.producer.getStats())[0]?.byteCount ?? 0;
        const sampled = await Promise.all(sampledSubs.map(snapshot));
        const all = await Promise.all(subscribers.map(snapshot));
        return { producer, at, bytes, sampled, all, load: loadavg()[0]! };
      };
      const before = await read();
      workerCpu.reset();
      ffmpegCpu.reset();
      benchCpu.reset();
      await sleep(args.seconds * 1000);
      const workerCpuPct = workerCpu.percent();
      const ffmpegCpuPct = ffmpegCpu.percent();
      const benchCpuPct = benchCpu.percent();
      const after = await read();
      const seconds = (after.at - before.at) / 1000;

      const producerPps = (after.producer.received - before.producer.received) / seconds;
      const lostIn = after.producer.lost - before.producer.lost;
      const inputLossPct = Math.max(0, (lostIn / Math.max(1, after.producer.received - before.producer.received + lostIn)) * 100);
      producerKbps = ((after.bytes - before.bytes) * 8) / 1000 / seconds;
      // Delivery is a ratio of counts from the same worker snapshots (each consumer's stats
      // carry its producer's counters), so it does not depend on how long the polling took.
      let forwarded = 0;
      let expected = 0;
      for (const [i, a] of after.all.entries()) {
        forwarded += a.forwarded - before.all[i]!.forwarded;
        expected += a.expected - before.all[i]!.expected;
      }
      let sampledForwarded = 0;
      let sampledReceived = 0;
      for (const [i, a] of after.sampled.entries()) {
        sampledForwarded += a.forwarded - before.sampled[i]!.forwarded;
        sampledReceived += a.received - before.sampled[i]!.received;
      }
      const deliveryPct = expected > 0 ? (forwarded / expected) * 100 : 100;
      const expectedPps = producerPps * target;
      const forwardedPps = (expectedPps * deliveryPct) / 100;
      const load0 = before.load;
      const load1 = after.load;
      const row: Row = {
        subscribers: target,
        consumers: consumers.length,
        producerPps,
        inputLossPct,
        expectedPps,
        forwardedPps,
        deliveryPct,
        endToEndPct: (deliveryPct * (100 - inputLossPct)) / 100,
        sampledPct: sampledForwarded > 0 ? (sampledReceived / sampledForwarded) * 100 : null,
        workerCpuPct,
        ffmpegCpuPct,
        benchCpuPct,
        loadAvg: (load0 + load1) / 2,
      };
      rows.push(row);
      console.error(
        `N=${target}: delivery ${row.deliveryPct.toFixed(1)}%, input loss ${row.inputLossPct.toFixed(1)}%, worker CPU ${workerCpuPct.toFixed(0)}% (producers ${producerPps.toFixed(0)} pkt/s, video ${producerKbps.toFixed(0)} kbps)`,
      );
      // Far past the limit: bigger N only take longer.
      if (row.deliveryPct < 90 || row.inputLossPct > 10 || row.workerCpuPct >= 99) break;
    }

    printTable(rows, producerKbps, args);
  } finally {
    cleanup();
  }
}

async function addSubscriber(room: Room, producers: ms.Producer[], blackhole: UdpBlackhole, sampled: boolean): Promise<Subscriber> {
  const counter = sampled ? await UdpCounter.create() : undefined;
  const transport = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  await transport.connect({ ip: '127.0.0.1', port: counter?.port ?? blackhole.port });
  const consumers = await Promise.all(producers.map((p) => transport.consume({ producerId: p.id, rtpCapabilities: room.rtpCapabilities })));
  return { transport, consumers, ...(counter ? { counter } : {}) };
}

/** The source clip as VP8 640x480@30 ~1 Mbps + Opus 64 kbps stereo 48 kHz, in a temp WebM. */
async function encodeClip(source: string): Promise<{ path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-consumers-'));
  const path = join(dir, 'clip.webm');
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', source],
      ...['-vf', 'scale=640:480,fps=30', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '4'],
      ...['-b:v', '1M', '-minrate', '1M', '-maxrate', '1M', '-g', '30'],
      ...['-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-ar', '48000', path],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ffmpeg could not encode ${source} (exit ${code})`);
  }
  return { path, dir };
}

function printTable(rows: Row[], producerKbps: number, args: z.infer<typeof argsSchema>): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nmediasoup ${mediasoup.version}, 1 worker, ${availableParallelism()} cores (${cpu})`);
  console.log(`producers: VP8 640x480@30 ~${producerKbps.toFixed(0)} kbps + Opus 64 kbps (ffmpeg, clip streamed with -c copy); each subscriber = 1 VP8 + 1 Opus consumer on a PlainTransport`);
  console.log(`window ${args.seconds} s after ${args.warmupSeconds} s warm-up; expected = producer packets × N; "sampled rx" = packets received by up to ${args.sampled} counting sockets / packets the worker sent them\n`);
  const header = ['subscribers', 'consumers', 'producer pkt/s', 'input loss %', 'expected pkt/s', 'forwarded pkt/s', 'delivery %', 'end-to-end %', 'sampled rx %', 'worker CPU %', 'ffmpeg CPU %', 'bench CPU %', 'load avg'];
  const lines = rows.map((r) => [
    String(r.subscribers),
    String(r.consumers),
    r.producerPps.toFixed(0),
    r.inputLossPct.toFixed(1),
    r.expectedPps.toFixed(0),
    r.forwardedPps.toFixed(0),
    r.deliveryPct.toFixed(1),
    r.endToEndPct.toFixed(1),
    r.sampledPct === null ? '-' : r.sampledPct.toFixed(1),
    r.workerCpuPct.toFixed(0),
    r.ffmpegCpuPct.toFixed(0),
    r.benchCpuPct.toFixed(0),
    r.loadAvg.toFixed(1),
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---:').join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  const ok = (r: Row) => r.endToEndPct >= 99 && r.workerCpuPct < 99;
  const limit = rows.find((r) => r.subscribers > 0 && !ok(r));
  const best = rows.filter(ok).at(-1);
  console.log(
    `\nlargest N sustained: ${best ? `${best.subscribers} subscribers (${best.consumers} consumers) at ${best.workerCpuPct.toFixed(0)}% worker CPU` : 'none'}; ` +
      (limit
        ? `first N not sustained: ${limit.subscribers} (end-to-end ${limit.endToEndPct.toFixed(1)}%, input loss ${limit.inputLossPct.toFixed(1)}%, worker CPU ${limit.workerCpuPct.toFixed(0)}%)`
        : 'no limit reached in the counts tried'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
