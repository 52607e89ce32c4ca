/**
 * How many consumers of one VP8 + one Opus producer one mediasoup worker sustains here.
 *
 *   npm run bench:consumers [-- --counts 0,10,50,100,200,400,800 --seconds 5]
 *
 * One worker, one room (the server's own Room: Router + server producers on PlainTransports).
 * ffmpeg feeds the producers: libvpx realtime ~1 Mbps 640x480@30 and libopus 64 kbps, as RTP.
 * For each N, N subscribers each get a PlainTransport with one VP8 and one Opus consumer:
 * most send to a UDP port that never reads (no receiver competing for the 2 cores), a sample
 * sends to counting sockets in this process. Per N it prints the expected packet rate
 * (producer rate × N), what the worker forwarded (consumer stats), what the sample received,
 * and the CPU% of the worker, ffmpeg and this process, read from /proc/<pid>/stat.
 * The baseline is the N = 0 row of the same run: the worker only receiving.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { pino } from 'pino';
import { z } from 'zod';
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
    .default([0, 10, 50, 100, 200, 400, 800]),
  seconds: z.coerce.number().positive().max(120).default(5),
  warmupSeconds: z.coerce.number().min(0).max(60).default(2),
  sampled: z.coerce.number().int().min(0).max(100).default(10),
});

function parseArgs(argv: string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!key || argv[i + 1] === undefined) throw new Error(`expected "--name value" pairs, got "${argv.slice(i).join(' ')}"`);
    raw[key] = argv[i + 1]!;
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`bad arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

type Subscriber = { transport: ms.PlainTransport; consumers: ms.Consumer[]; counter?: UdpCounter };
type Row = {
  subscribers: number;
  consumers: number;
  expectedPps: number;
  forwardedPps: number;
  deliveryPct: number;
  sampledPct: number | null;
  workerCpuPct: number;
  ffmpegCpuPct: number;
  benchCpuPct: number;
};

const VIDEO_SSRC = 1111;
const AUDIO_SSRC = 2222;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function packetCounts(items: { getStats(): Promise<{ type: string; packetCount?: number }[]> }[]): Promise<{ at: number; packets: number }[]> {
  return Promise.all(
    items.map(async (item) => {
      const stats = await item.getStats();
      const packets = stats.filter((s) => s.type === 'outbound-rtp' || s.type === 'inbound-rtp').reduce((sum, s) => sum + (s.packetCount ?? 0), 0);
      return { at: performance.now(), packets };
    }),
  );
}

function rate(a: { at: number; packets: number }, b: { at: number; packets: number }): number {
  return (b.packets - a.packets) / ((b.at - a.at) / 1000);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const logger = pino({ level: 'warn' });
  const config = loadConfig({}, { limits: { maxPeersPerRoom: 10_000, emptyRoomTimeoutMs: 3_600_000 } });
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  const room = await Room.create({ id: 'bench', worker, config, logger, metrics: new ServerMetrics() });
  const blackhole = await UdpBlackhole.create();
  const subscribers: Subscriber[] = [];
  let ffmpeg: ReturnType<typeof spawn> | undefined;

  const cleanup = () => {
    ffmpeg?.kill('SIGKILL');
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
    ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
        ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30'],
        ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1M', '-minrate', '1M', '-maxrate', '1M'],
        ...['-g', '60', '-payload_type', '101', '-ssrc', String(VIDEO_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${video.rtpPort}?pkt_size=1200`],
        ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-ar', '48000'],
        ...['-payload_type', '100', '-ssrc', String(AUDIO_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${audio.rtpPort}`],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const ffmpegCpu = new ProcessCpu(ffmpeg.pid!);
    const workerCpu = new ProcessCpu(worker.pid);
    const benchCpu = new ProcessCpu(process.pid);

    // Wait until both producers receive media.
    for (let i = 0; ; i++) {
      const [v, a] = await packetCounts([video.producer, audio.producer]);
      if ((v?.packets ?? 0) > 30 && (a?.packets ?? 0) > 10) break;
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
      while (subscribers.length < target) {
        const sampled = subscribers.length < args.sampled;
        const counter = sampled ? await UdpCounter.create() : undefined;
        const transport = await room.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
        await transport.connect({ ip: '127.0.0.1', port: counter?.port ?? blackhole.port });
        const consumers = await Promise.all(
          [video.producer, audio.producer].map((p) => transport.consume({ producerId: p.id, rtpCapabilities: room.rtpCapabilities })),
        );
        subscribers.push({ transport, consumers, ...(counter ? { counter } : {}) });
      }
      await sleep(args.warmupSeconds * 1000);

      const consumers = subscribers.flatMap((s) => s.consumers);
      const sampledSubs = subscribers.filter((s) => s.counter);
      const p0 = await packetCounts([video.producer, audio.producer]);
      const c0 = await packetCounts(consumers);
      const s0 = sampledSubs.map((s) => ({ at: performance.now(), packets: s.counter!.packets }));
      const bytes0 = (await video.producer.getStats())[0]?.byteCount ?? 0;
      workerCpu.reset();
      ffmpegCpu.reset();
      benchCpu.reset();
      await sleep(args.seconds * 1000);
      const workerCpuPct = workerCpu.percent();
      const ffmpegCpuPct = ffmpegCpu.percent();
      const benchCpuPct = benchCpu.percent();
      const p1 = await packetCounts([video.producer, audio.producer]);
      const c1 = await packetCounts(consumers);
      const s1 = sampledSubs.map((s) => ({ at: performance.now(), packets: s.counter!.packets }));
      const bytes1 = (await video.producer.getStats())[0]?.byteCount ?? 0;

      const producerPps = rate(p0[0]!, p1[0]!) + rate(p0[1]!, p1[1]!);
      producerKbps = ((bytes1 - bytes0) * 8) / 1000 / ((p1[0]!.at - p0[0]!.at) / 1000);
      const forwardedPps = c0.reduce((sum, c, i) => sum + rate(c, c1[i]!), 0);
      const expectedPps = producerPps * target;
      const sampledPps = s0.reduce((sum, s, i) => sum + rate(s, s1[i]!), 0);
      const row: Row = {
        subscribers: target,
        consumers: consumers.length,
        expectedPps,
        forwardedPps,
        deliveryPct: target === 0 ? 100 : (forwardedPps / expectedPps) * 100,
        sampledPct: sampledSubs.length ? (sampledPps / (producerPps * sampledSubs.length)) * 100 : null,
        workerCpuPct,
        ffmpegCpuPct,
        benchCpuPct,
      };
      rows.push(row);
      console.error(
        `N=${target}: delivery ${row.deliveryPct.toFixed(1)}%, worker CPU ${workerCpuPct.toFixed(0)}% (producer ${producerPps.toFixed(0)} pkt/s, ${producerKbps.toFixed(0)} kbps video)`,
      );
      if (row.deliveryPct < 90) break; // far past the limit: bigger N only take longer
    }

    printTable(rows, producerKbps, args);
  } finally {
    cleanup();
  }
}

function printTable(rows: Row[], producerKbps: number, args: z.infer<typeof argsSchema>): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nmediasoup ${mediasoup.version}, 1 worker, ${availableParallelism()} cores (${cpu})`);
  console.log(`producers: VP8 640x480@30 ~${producerKbps.toFixed(0)} kbps + Opus 64 kbps (ffmpeg); each subscriber = 1 VP8 + 1 Opus consumer on a PlainTransport`);
  console.log(`window ${args.seconds} s after ${args.warmupSeconds} s warm-up; "sampled" = packets actually received by up to ${args.sampled} counting sockets\n`);
  const header = ['subscribers', 'consumers', 'expected pkt/s', 'forwarded pkt/s', 'delivery %', 'sampled rx %', 'worker CPU %', 'ffmpeg CPU %', 'bench CPU %'];
  const lines = rows.map((r) => [
    String(r.subscribers),
    String(r.consumers),
    r.expectedPps.toFixed(0),
    r.forwardedPps.toFixed(0),
    r.deliveryPct.toFixed(1),
    r.sampledPct === null ? '-' : r.sampledPct.toFixed(1),
    r.workerCpuPct.toFixed(0),
    r.ffmpegCpuPct.toFixed(0),
    r.benchCpuPct.toFixed(0),
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---:').join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  const limit = rows.find((r) => r.subscribers > 0 && (r.deliveryPct < 99 || r.workerCpuPct >= 99));
  const best = rows.filter((r) => r.deliveryPct >= 99 && r.workerCpuPct < 99).at(-1);
  console.log(
    `\nsustained: ${best ? `${best.subscribers} subscribers (${best.consumers} consumers) at ${best.workerCpuPct.toFixed(0)}% worker CPU` : 'none'}; ` +
      (limit
        ? `limit reached at N=${limit.subscribers} (delivery ${limit.deliveryPct.toFixed(1)}%, worker CPU ${limit.workerCpuPct.toFixed(0)}%)`
        : 'no limit reached in the counts tried'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
