// Times an ONNX student in onnxruntime-node (the runtime the live server uses), CPU, N threads.
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { LANDMARK_COUNT } from '@shared/student';

export interface OnnxTiming {
  threads: number;
  frames: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  fps: number;
  /** 1-minute load average when the measurement ended (the machine is shared; figures move with it). */
  load1: number;
}

/**
 * Driving inputs: the identity's neutral landmarks (478*3) with a smooth synthetic motion (a few px of
 * head sway, a mouth that opens and closes), so every frame differs as in a call.
 */
export function drivingFrames(neutral: readonly number[], count: number): Float32Array[] {
  if (neutral.length !== LANDMARK_COUNT * 3) throw new Error(`neutral landmarks: expected ${LANDMARK_COUNT * 3} floats, got ${neutral.length}`);
  const out: Float32Array[] = [];
  for (let t = 0; t < count; t++) {
    const a = new Float32Array(neutral);
    const dx = 0.01 * Math.sin(t / 7);
    const dy = 0.006 * Math.sin(t / 11);
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      a[i * 3] = (a[i * 3] ?? 0) + dx;
      a[i * 3 + 1] = (a[i * 3 + 1] ?? 0) + dy;
    }
    // lower inner lip (14) down by up to 1.5% of the image
    a[14 * 3 + 1] = (a[14 * 3 + 1] ?? 0) + 0.015 * Math.max(0, Math.sin(t / 5));
    out.push(a);
  }
  return out;
}

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i] ?? Number.NaN;
}

/** Loads `modelPath` with `threads` intra-op threads and times `frames` runs after `warmup` runs. */
export async function timeOnnx(modelPath: string, inputName: string, inputs: Float32Array[], threads: number,
  frames: number, warmup = 10): Promise<OnnxTiming> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const feed = (i: number) => ({ [inputName]: new ort.Tensor('float32', inputs[i % inputs.length]!, [1, LANDMARK_COUNT, 3]) });
    for (let i = 0; i < warmup; i++) await session.run(feed(i));
    const ms: number[] = [];
    for (let i = 0; i < frames; i++) {
      const f = feed(i);
      const t0 = performance.now();
      await session.run(f);
      ms.push(performance.now() - t0);
    }
    const sorted = [...ms].sort((x, y) => x - y);
    const mean = ms.reduce((s, v) => s + v, 0) / ms.length;
    return { threads, frames, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95), meanMs: mean, fps: 1000 / mean, load1: loadavg()[0] ?? 0 };
  } finally {
    await session.release();
  }
}
