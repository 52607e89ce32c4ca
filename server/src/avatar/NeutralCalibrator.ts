/**
 * The driver's neutral face, calibrated live: while avatar mode starts (the page says "look at
 * the camera") it averages the first `calibrationMs` of tracked frames (at least `minFrames`):
 * pose-free shape, rotation (sign-aligned quaternion mean), scale, translation, unprojection
 * scale and depth offset. Afterwards it keeps refining the shape, slowly (weight 1/300), from
 * frames that look neutral: mouth closed and head within 12° of the calibrated pose.
 */
import type { MetricFace } from './retarget/faceGeometry';
import { matrixToQuaternion, quaternionToMatrix } from './retarget/faceDelta';

const UPPER_LIP = 13;
const LOWER_LIP = 14;
const FOREHEAD = 10;
const CHIN = 152;
const REFINE_WEIGHT = 1 / 300;
const REFINE_MAX_ANGLE_RAD = (12 * Math.PI) / 180;
const REFINE_MAX_MOUTH = 0.03; // lip gap / face height

export class NeutralCalibrator {
  readonly #calibrationMs: number;
  readonly #minFrames: number;
  #firstMs: number | undefined;
  #frames: MetricFace[] = [];
  #neutral: MetricFace | undefined;
  #neutralQuaternion: [number, number, number, number] = [1, 0, 0, 0];
  /** Frames that refined the neutral after calibration. */
  refinedFrames = 0;

  constructor(options: { calibrationMs: number; minFrames: number }) {
    this.#calibrationMs = options.calibrationMs;
    this.#minFrames = options.minFrames;
  }

  get calibrated(): boolean {
    return this.#neutral !== undefined;
  }

  get neutral(): MetricFace | undefined {
    return this.#neutral;
  }

  /** Calibration progress 0..1 (frames and time both count). */
  progress(nowMs: number): number {
    if (this.#neutral) return 1;
    const time = this.#firstMs === undefined ? 0 : (nowMs - this.#firstMs) / Math.max(1, this.#calibrationMs);
    return Math.min(1, Math.min(time, this.#frames.length / this.#minFrames));
  }

  /**
   * Adds one tracked driver frame at `nowMs`. Returns true when this frame completed the
   * calibration or refined the neutral (the caller re-reads `neutral`).
   */
  add(face: MetricFace, nowMs: number): boolean {
    if (this.#neutral) return this.#refine(face);
    this.#firstMs ??= nowMs;
    this.#frames.push(face);
    if (nowMs - this.#firstMs < this.#calibrationMs || this.#frames.length < this.#minFrames) return false;
    this.#neutral = average(this.#frames);
    this.#neutralQuaternion = matrixToQuaternion(rotationOf(this.#neutral));
    this.#frames = [];
    return true;
  }

  #refine(face: MetricFace): boolean {
    const neutral = this.#neutral as MetricFace;
    const m = face.metric;
    const gap = Math.hypot(
      (m[UPPER_LIP * 3] as number) - (m[LOWER_LIP * 3] as number),
      (m[UPPER_LIP * 3 + 1] as number) - (m[LOWER_LIP * 3 + 1] as number),
    );
    const height = Math.hypot(
      (m[FOREHEAD * 3] as number) - (m[CHIN * 3] as number),
      (m[FOREHEAD * 3 + 1] as number) - (m[CHIN * 3 + 1] as number),
    );
    const q = matrixToQuaternion(rotationOf(face));
    const dot = Math.abs(q.reduce((s, v, i) => s + v * (this.#neutralQuaternion[i] as number), 0));
    const angle = 2 * Math.acos(Math.min(1, dot));
    if (gap / height > REFINE_MAX_MOUTH || angle > REFINE_MAX_ANGLE_RAD) return false;
    for (let i = 0; i < neutral.metric.length; i += 1) {
      neutral.metric[i] = (1 - REFINE_WEIGHT) * (neutral.metric[i] as number) + REFINE_WEIGHT * (m[i] as number);
    }
    this.refinedFrames += 1;
    return true;
  }
}

function rotationOf(face: MetricFace): Float64Array {
  const l = face.pose.linear;
  const s = Math.hypot(l[0] as number, l[3] as number, l[6] as number);
  return l.map((v) => v / s);
}

/** Mean MetricFace of several frames (rotation: sign-aligned quaternion mean). */
export function average(frames: readonly MetricFace[]): MetricFace {
  const n = frames.length;
  const first = frames[0] as MetricFace;
  const metric = new Float64Array(first.metric.length);
  const translation = new Float64Array(3);
  const q = [0, 0, 0, 0];
  const q0 = matrixToQuaternion(rotationOf(first));
  let scale = 0;
  let totalScale = 0;
  let depthOffset = 0;
  for (const f of frames) {
    for (let i = 0; i < metric.length; i += 1) metric[i] = (metric[i] as number) + (f.metric[i] as number) / n;
    for (let d = 0; d < 3; d += 1) translation[d] = (translation[d] as number) + (f.pose.translation[d] as number) / n;
    const qi = matrixToQuaternion(rotationOf(f));
    const sign = qi.reduce((s, v, i) => s + v * (q0[i] as number), 0) < 0 ? -1 : 1;
    for (let i = 0; i < 4; i += 1) q[i] = (q[i] as number) + sign * (qi[i] as number);
    scale += Math.hypot(f.pose.linear[0] as number, f.pose.linear[3] as number, f.pose.linear[6] as number) / n;
    totalScale += f.totalScale / n;
    depthOffset += f.depthOffset / n;
  }
  const norm = Math.hypot(...q);
  const rotation = quaternionToMatrix(q.map((v) => v / norm) as [number, number, number, number]);
  return { metric, pose: { linear: rotation.map((v) => v * scale), translation }, totalScale, depthOffset };
}
