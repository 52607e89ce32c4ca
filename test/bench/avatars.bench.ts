/**
 * How many live avatars this machine renders at the output rate.
 *
 *   npm run bench:avatars [-- --counts 1,2,4,6 --seconds 10 --warmup-seconds 3 --identity-dir models/identities/demo --precision int8|float32]
 *
 * A real AvatarServer (one mediasoup worker) and, for each N, N avatar sessions in one room, each
 * driven by a recorded landmark track of models/motion_library (d10, d12, d14, d18, d19,
 * WDA_KatieHill_000 in turn, each from its own offset) replayed at 25 fps — the full live path:
 * retargeting, the student in its render worker (one InferenceSession shared by the sessions of
 * the identity), VP8 in ffmpeg, RTP into the server producer. Per N, over the measured window:
 * - on time % = frames sent within two frame periods of their tick's deadline (the frame left
 *   before the one after next was due: the avatar keeps its cadence with at most one frame of
 *   render latency) / ticks in the window (dropped ticks count as late);
 * - motion played → RTP sent p50 / p95 (ms): from the sample becoming available (what the jitter
 *   buffer's playout is in the live path) to its RTP leaving;
 * - inference / encode p50 (ms), output fps per avatar, drops;
 * - CPU: this process (main thread + render worker), the ffmpeg encoders and the mediasoup worker,
 *   from /proc/<pid>/stat, as % of one core; per avatar = (total − the N = 0 baseline) / N.
 * N is "sustained" when every avatar is ≥ 95 % on time. The last line is one JSON object:
 * {"sustained_avatars","fps","p50_ms","p95_ms","cpu_per_avatar_pct"} at the highest sustained N.
 */
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { z } from 'zod';
import { studentManifestSchema } from '../../shared/src/student/studentManifest';
import { chooseStudentFile } from '../../server/src/avatar/studentFile';
import { parseBenchArgs } from './benchArgs';
import type { AvatarFrameEvent } from '../../shared/src/avatar/avatarProtocol';
import { ReplayMotionSource } from '../../server/src/avatar/ReplayMotionSource';
import { startTestServer } from '../../server/src/testing/startTestServer';
import { SignallingTestClient } from '../../server/src/testing/SignallingTestClient';
import { ProcessCpu } from './consumers/ProcessCpu';
import { loadMotionLibraryTrack, type MotionLibraryTrack } from '../support/motionLibraryTrack';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const argsSchema = z.object({
  counts: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated integers')
    .transform((s) => s.split(',').map(Number))
    .default([0, 1, 2, 4, 6, 8]),
  seconds: z.coerce.number().positive().max(120).default(10),
  warmupSeconds: z.coerce.number().min(0).max(60).default(3),
  fps: z.coerce.number().int().min(1).max(60).default(25),
  identityDir: z.string().min(1).default('models/identities/demo'),
  threads: z.coerce.number().int().min(1).max(16).default(1),
  /** The server's `inference.precision`: int8 (its default: the manifest's int8 variant) or float32. */
  precision: z.enum(['int8', 'float32']).default('int8'),
});

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const CLIPS = ['d10', 'd12', 'd14', 'd18', 'd19', 'WDA_KatieHill_000'];

interface Row {
  n: number;
  onTimePct: number;
  worstOnTimePct: number;
  fps: number;
  p50: number | null;
  p95: number | null;
  inferenceP50: number | null;
  encodeP50: number | null;
  dropped: number;
  cpuNode: number;
  cpuFfmpeg: number;
  cpuWorker: number;
  cpuTotal: number;
  load: number;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(argsSchema);
  const studentDir = join(repoRoot, args.identityDir);
  if (!existsSync(join(studentDir, 'manifest.json'))) throw new Error(`no student in ${studentDir} (manifest.json missing)`);
  const tracks: MotionLibraryTrack[] = CLIPS.map((c) => loadMotionLibraryTrack(c));
  const server = await startTestServer({
    avatar: {
      fps: args.fps,
      identities: [{ identityId: 'bench', displayName: 'Bench', studentDir }],
      roomGrants: { '*': ['bench'] },
      inference: { intraOpThreads: args.threads, precision: args.precision },
      // the bench measures how many the machine sustains: no admission limit
      maxSessions: Math.max(...args.counts, 1),
    },
  });
  const workerPid = server.workers.workers[0]!.pid;
  const { baselineMs, file } = await rawInferenceMs(studentDir, args.threads, args.precision);
  console.log(`baseline: the student alone (${file}) in this process (onnxruntime-node, no pipeline), ${args.threads} thread(s): ` +
    `p50 ${baselineMs.toFixed(1)} ms/frame → at most ${(1000 / baselineMs).toFixed(1)} frames/s per core, ${(1000 / baselineMs / args.fps).toFixed(2)} avatars at ${args.fps} fps`);
  const rows: Row[] = [];
  const periodMs = 1000 / args.fps;
  console.log(`avatar benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${args.fps} fps, student ${args.identityDir}, ` +
    `${args.threads} onnxruntime thread(s), window ${args.seconds} s after ${args.warmupSeconds} s warm-up`);
  try {
    for (const n of args.counts) {
      const clients: SignallingTestClient[] = [];
      const sources: ReplayMotionSource[] = [];
      const roomId = `bench-${n}`;
      const sessions = [];
      for (let i = 0; i < n; i += 1) {
        const client = await SignallingTestClient.connect(server.url);
        clients.push(client);
        const joined = await client.join(roomId, `Driver ${i}`);
        const room = server.rooms.get(roomId)!;
        const peer = room.peers.get(joined.peerId)!;
        const track = tracks[i % tracks.length]!;
        const source = new ReplayMotionSource({ frames: track.frames, width: track.width, height: track.height, fps: args.fps, offset: (i * 37) % track.frames.length });
        sources.push(source);
        sessions.push(await server.avatars.start(room, peer, 'bench', source));
      }
      await new Promise((r) => setTimeout(r, args.warmupSeconds * 1000));
      const events: AvatarFrameEvent[] = [];
      const perPeer = new Map<string, number>();
      const onEvent = (e: { type: string }) => {
        if (e.type !== 'avatar_frame') return;
        const frame = e as AvatarFrameEvent;
        events.push(frame);
        if (frame.tickToSentMs <= 2 * periodMs) perPeer.set(frame.peerId, (perPeer.get(frame.peerId) ?? 0) + 1);
      };
      const dropsBefore = sessions.reduce((sum, s) => sum + Object.values(s.stats().framesDropped).reduce((a, b) => a + b, 0), 0);
      const ffmpegPids = sessions.flatMap((s) => s.encoderPids);
      const cpuNode = new ProcessCpu(process.pid);
      const cpuWorker = new ProcessCpu(workerPid);
      const cpuFfmpeg = ffmpegPids.map((pid) => new ProcessCpu(pid));
      server.avatars.on('event', onEvent);
      // The main thread's event-loop delay: the pacer's timers, motion, encoder pipes and RTP all run there.
      const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loopDelay.enable();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, args.seconds * 1000));
      const seconds = (performance.now() - t0) / 1000;
      loopDelay.disable();
      server.avatars.off('event', onEvent);
      const ffmpegPct = cpuFfmpeg.reduce((sum, c) => {
        try {
          return sum + c.percent();
        } catch {
          return sum; // an encoder replaced during the window
        }
      }, 0);
      const row: Row = {
        n,
        onTimePct: 0,
        worstOnTimePct: 0,
        fps: 0,
        p50: quantile(events.flatMap((e) => (e.playedToSentMs === null ? [] : [e.playedToSentMs])), 0.5),
        p95: quantile(events.flatMap((e) => (e.playedToSentMs === null ? [] : [e.playedToSentMs])), 0.95),
        inferenceP50: quantile(events.map((e) => e.inferenceMs), 0.5),
        encodeP50: quantile(events.map((e) => e.encodeMs), 0.5),
        dropped: sessions.reduce((sum, s) => sum + Object.values(s.stats().framesDropped).reduce((a, b) => a + b, 0), 0) - dropsBefore,
        cpuNode: cpuNode.percent(),
        cpuFfmpeg: ffmpegPct,
        cpuWorker: cpuWorker.percent(),
        cpuTotal: 0,
        load: loadavg()[0] ?? 0,
      };
      row.cpuTotal = row.cpuNode + row.cpuFfmpeg + row.cpuWorker;
      if (n > 0) {
        const expected = args.fps * seconds;
        const onTime = sessions.map((s) => (100 * (perPeer.get(s.peer.id) ?? 0)) / expected);
        row.onTimePct = onTime.reduce((a, b) => a + b, 0) / n;
        row.worstOnTimePct = Math.min(...onTime);
        row.fps = events.length / seconds / n;
      }
      rows.push(row);
      printRow(row);
      if (n > 0) printLatencyParts(events, loopDelay);
      for (const s of sources) s.close();
      await Promise.all(sessions.map((s) => server.avatars.stop(s.peer)));
      for (const c of clients) c.close();
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await server.close();
  }
  printTable(rows, baselineMs);
  const baseline = rows.find((r) => r.n === 0);
  const sustained = rows.filter((r) => r.n > 0 && r.worstOnTimePct >= 95).sort((a, b) => b.n - a.n)[0];
  const cpuPerAvatar = sustained ? (sustained.cpuTotal - (baseline?.cpuTotal ?? 0)) / sustained.n : null;
  console.log(
    JSON.stringify({
      sustained_avatars: sustained?.n ?? 0,
      fps: sustained ? round(sustained.fps) : 0,
      p50_ms: sustained?.p50 === null || !sustained ? null : round(sustained.p50),
      p95_ms: sustained?.p95 === null || !sustained ? null : round(sustained.p95),
      cpu_per_avatar_pct: cpuPerAvatar === null ? null : round(cpuPerAvatar),
    }),
  );
}

/** The histogram's timer period (ms); its samples include it, so `lateMs` takes it off. */
const LOOP_DELAY_RESOLUTION_MS = 5;

function lateMs(histogramNs: number): number {
  return Math.max(0, histogramNs / 1e6 - LOOP_DELAY_RESOLUTION_MS);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function fmt(x: number | null, digits = 1): string {
  return x === null ? '-' : x.toFixed(digits);
}

function printRow(r: Row): void {
  console.log(
    `N=${r.n}: on time ${fmt(r.onTimePct)}% (worst ${fmt(r.worstOnTimePct)}%), ${fmt(r.fps)} fps/avatar, motion→RTP p50 ${fmt(r.p50)} p95 ${fmt(r.p95)} ms, ` +
      `inference ${fmt(r.inferenceP50)} ms, encode ${fmt(r.encodeP50)} ms, dropped ${r.dropped}, CPU node ${fmt(r.cpuNode, 0)}% ffmpeg ${fmt(r.cpuFfmpeg, 0)}% worker ${fmt(r.cpuWorker, 0)}%, load ${fmt(r.load)}`,
  );
}

/**
 * Where motion→RTP goes, p50 / p95 of each part: the sample's wait for its tick (played→sent minus
 * tick→sent), the frame's wait for a free render worker, inference, encode, and tick→sent in all;
 * then the main thread's event-loop delay over the window (p50 / p99, ms beyond the histogram's own
 * 5 ms timer), which says whether a tail came from the main thread being late rather than from the
 * render workers.
 */
function printLatencyParts(events: AvatarFrameEvent[], loopDelay: IntervalHistogram): void {
  const part = (values: number[]) => `${fmt(quantile(values, 0.5))} / ${fmt(quantile(values, 0.95))}`;
  const waits = events.flatMap((e) => (e.playedToSentMs === null ? [] : [e.playedToSentMs - e.tickToSentMs]));
  console.log(
    `    parts p50 / p95 ms: motion wait for the tick ${part(waits)}, worker queue ${part(events.map((e) => e.queueMs))}, ` +
      `inference ${part(events.map((e) => e.inferenceMs))}, encode ${part(events.map((e) => e.encodeMs))}, tick→sent ${part(events.map((e) => e.tickToSentMs))}, ` +
      `event-loop delay ${fmt(lateMs(loopDelay.percentile(50)))} / ${fmt(lateMs(loopDelay.percentile(99)))} (max ${fmt(lateMs(loopDelay.max))})`,
  );
}

function printTable(rows: Row[], baselineMs: number): void {
  const base = rows.find((r) => r.n === 0)?.cpuTotal ?? 0;
  console.log('\n| avatars | on time % (worst) | fps/avatar | motion→RTP p50 ms | p95 ms | inference p50 ms (× alone) | encode p50 ms | dropped | CPU node % | CPU ffmpeg % | CPU worker % | CPU/avatar % (− baseline) | load avg |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const perAvatar = r.n > 0 ? fmt((r.cpuTotal - base) / r.n) : '-';
    console.log(
      `| ${r.n} | ${r.n ? `${fmt(r.onTimePct)} (${fmt(r.worstOnTimePct)})` : '-'} | ${r.n ? fmt(r.fps) : '-'} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.inferenceP50)}${r.inferenceP50 === null ? '' : ` (×${(r.inferenceP50 / baselineMs).toFixed(2)})`} | ${fmt(r.encodeP50)} | ${r.dropped} | ${fmt(r.cpuNode, 0)} | ${fmt(r.cpuFfmpeg, 0)} | ${fmt(r.cpuWorker, 0)} | ${perAvatar} | ${fmt(r.load)} |`,
    );
  }
}

/** p50 ms of the file the server renders at `precision` (studentFile.ts), run directly (30 runs after 5 warm-ups) on its neutral landmarks. */
async function rawInferenceMs(studentDir: string, threads: number, precision: 'int8' | 'float32'): Promise<{ baselineMs: number; file: string }> {
  const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(studentDir, 'manifest.json'), 'utf8')));
  const choice = await chooseStudentFile(join(studentDir, manifest.model.file), manifest, { precision, executionProvider: 'cpu' }, pino({ level: 'warn' }));
  const file = basename(choice.path);
  const session = await ort.InferenceSession.create(join(studentDir, file), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = new ort.Tensor('float32', Float32Array.from(manifest.identity.neutralLandmarks), [1, 478, 3]);
  const times: number[] = [];
  for (let i = 0; i < 35; i += 1) {
    const t0 = performance.now();
    await session.run({ landmarks: input });
    if (i >= 5) times.push(performance.now() - t0);
  }
  await session.release();
  return { baselineMs: quantile(times, 0.5) as number, file };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
