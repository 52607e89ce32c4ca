// npm run bench:student -- --model <dir> [--frames 100] [--no-teacher]
// The exported student (<dir>/student.onnx, manifest parsed with studentManifestSchema) through
// onnxruntime-node, the runtime the live server uses, at 1 and 2 threads; a ~6-GFLOP student of the
// paper's size (same architecture, widened) built, exported and timed in the same run as the
// baseline; the teacher's Python s/frame for reference. Where the manifest has an int8 variant
// (`model.int8`, avatar_ml.student.quantize: what the server renders on CPU by default) it is timed
// in the same rounds. Ends with one JSON line:
// {"fps_1thread","fps_2threads","p95_ms_1thread","gflops","params"} (the float student), plus
// "fps_1thread_int8","fps_2threads_int8","p95_ms_1thread_int8" when the variant exists.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { studentManifestSchema } from '@shared/student';
import { drivingFrames, timeOnnx, type OnnxTiming } from './student/measureOnnx';

const { values } = parseArgs({
  options: { model: { type: 'string' }, frames: { type: 'string', default: '100' }, 'no-teacher': { type: 'boolean', default: false } },
});
if (!values.model) {
  console.error('usage: npm run bench:student -- --model <dir with manifest.json + student.onnx> [--frames 100] [--no-teacher]');
  process.exit(2);
}
const frames = Number(values.frames);
if (!Number.isInteger(frames) || frames < 10) throw new Error('--frames must be an integer >= 10');
const dir = resolve(values.model);
const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
const input = manifest.model.inputs[0]!.name;
const inputs = drivingFrames(manifest.identity.neutralLandmarks, 64);
const int8 = manifest.model.int8;

const refsSchema = z.object({
  paper_onnx: z.string(),
  paper_gflops: z.number(),
  paper_params: z.number(),
  paper_width: z.number(),
  teacher_s_per_frame_256: z.number().optional(),
  teacher_s_per_frame_512: z.number().optional(),
  teacher_clip: z.string().optional(),
});
const work = mkdtempSync(join(tmpdir(), 'bench-student-'));
try {
  console.error('building the paper-size baseline (and timing the teacher) in Python …');
  const py = resolve('models/.venv/bin/python');
  const args = ['-m', 'avatar_ml.student.bench_refs', '--out', work, ...(values['no-teacher'] ? ['--no-teacher'] : [])];
  const out = execFileSync(py, args, { env: { ...process.env, PYTHONPATH: resolve('models'), TF_CPP_MIN_LOG_LEVEL: '3' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const refs = refsSchema.parse(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'));

  const rows: { name: string; gflops: number; params: number; t: OnnxTiming }[] = [];
  // Interleave student and baseline so load changes hit both alike.
  for (const threads of [1, 2]) {
    rows.push({ name: 'student', gflops: manifest.model.flopsPerFrame / 1e9, params: manifest.model.params, t: await timeOnnx(join(dir, manifest.model.file), input, inputs, threads, frames) });
    if (int8) rows.push({ name: 'student-int8', gflops: manifest.model.flopsPerFrame / 1e9, params: manifest.model.params, t: await timeOnnx(join(dir, int8.file), input, inputs, threads, frames) });
    rows.push({ name: 'paper-size', gflops: refs.paper_gflops, params: refs.paper_params, t: await timeOnnx(refs.paper_onnx, 'landmarks', inputs, threads, Math.max(10, Math.round(frames / 4))) });
  }
  const f = (v: number, d = 2) => v.toFixed(d);
  console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (shared machine: compare rows of this run)`);
  console.log(`student: ${dir}  (${manifest.identity.sourceKind}, ${manifest.training.steps} steps, ${manifest.model.outputSize}px output)`);
  console.log('model       threads  GFLOPs   params    p50 ms   p95 ms   fps     load1');
  for (const r of rows) {
    console.log(`${r.name.padEnd(11)} ${String(r.t.threads).padStart(7)}  ${f(r.gflops, 3).padStart(6)}  ${String(r.params).padStart(8)}  ${f(r.t.p50Ms).padStart(7)}  ${f(r.t.p95Ms).padStart(7)}  ${f(r.t.fps, 1).padStart(6)}  ${f(r.t.load1)}`);
  }
  const get = (name: string, threads: number) => rows.find((r) => r.name === name && r.t.threads === threads)!.t;
  for (const threads of [1, 2]) {
    const s = get('student', threads);
    const p = get('paper-size', threads);
    console.log(`ratio at ${threads} thread(s): student ${f(s.meanMs)} ms vs paper-size ${f(p.meanMs)} ms = ${f(p.meanMs / s.meanMs, 1)}x faster`);
    if (int8) {
      const q = get('student-int8', threads);
      console.log(`int8 variant at ${threads} thread(s): ${f(q.meanMs)} ms = ${f(s.meanMs / q.meanMs, 2)}x the float student (parity: max ${int8.parity.maxAbsDiff} / mean ${int8.parity.meanAbsDiff} levels, PSNR ${int8.parity.psnrDb} dB)`);
    }
  }
  if (refs.teacher_s_per_frame_256 !== undefined) {
    const s1 = get('student', 1);
    console.log(`teacher (Python/OpenCV, 1 thread, ${refs.teacher_clip}): ${f(refs.teacher_s_per_frame_256, 4)} s/frame at 256, ${f(refs.teacher_s_per_frame_512 ?? Number.NaN, 4)} s/frame at 512; student at 1 thread is ${f(refs.teacher_s_per_frame_256 * 1000 / s1.meanMs, 1)}x faster than the teacher at 256`);
  }
  const s1 = get('student', 1);
  const s2 = get('student', 2);
  console.log(JSON.stringify({
    fps_1thread: Number(f(s1.fps, 1)),
    fps_2threads: Number(f(s2.fps, 1)),
    p95_ms_1thread: Number(f(s1.p95Ms)),
    gflops: Number((manifest.model.flopsPerFrame / 1e9).toFixed(3)),
    params: manifest.model.params,
    ...(int8
      ? {
          fps_1thread_int8: Number(f(get('student-int8', 1).fps, 1)),
          fps_2threads_int8: Number(f(get('student-int8', 2).fps, 1)),
          p95_ms_1thread_int8: Number(f(get('student-int8', 1).p95Ms)),
        }
      : {}),
  }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
