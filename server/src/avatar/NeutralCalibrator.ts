/**
 * The driver's neutral face, calibrated live: while avatar mode starts (the page says "look at
 * the camera") it averages the first `calibrationMs` of tracked frames (at least `minFrames`):
 * rotation (sign-aligned quaternion mean), scale, translation, unprojection scale and depth
 * offset over all of them, and the pose-free shape over the quarter of them with the least open
 * mouth. Afterwards it keeps refining the shape from frames that look neutral (head within 12° of
 * the calibrated pose): quickly (weight 1/8) from a mouth more closed than the neutral's, slowly
 * (1/300) from a mouth at most 0.01 face heights more open.
 *
 * Why the mouth decides: the identity's neutral (the student's manifest) has closed lips, and the
 * expression is the driver's delta from this neutral. A neutral whose mouth is open (a driver who
 * talks while calibrating, as everyone does in a call) puts the lips of every less open frame
 * past each other: measured on d10 driving the demo identity, 78 % of live frames had crossed
 * lips, which the student renders as a closed mouth, and the mouth opening B sees correlated
 * only 0.65–0.77 with A's (test/tools/mouth-chain). So the neutral follows the lower envelope of
 * the driver's lip gap: the closed mouth.
 */
import type { MetricFace } from './retarget/faceGeometry';
import { matrixToQuaternion, quaternionToMatrix } from './retarget/faceDelta';

const UPPER_LIP = 13;
const LOWER_LIP = 14;
const FOREHEAD = 10;
const CHIN = 152;
/** Share of the calibration frames, least open mouth first, whose shape makes the neutral. */
const CALIBRATION_SHAPE_SHARE = 0.25;
/** Refinement weight of a frame whose mouth is more closed than the neutral's. */
const CLOSING_WEIGHT = 1 / 8;
/** Refinement weight of a frame whose mouth is about as closed as the neutral's. */
const REFINE_WEIGHT = 1 / 300;
const REFINE_MAX_ANGLE_RAD = (12 * Math.PI) / 180;
/** How much more open (lip gap / face height) than the neutral's a refining frame's mouth may be. */
const REFINE_MOUTH_MARGIN = 0.01;

/** Inner lip gap over face height of pose-free metric landmarks (x, y plane). */
export function metricMouthGap(metric: ArrayLike<number>): number {
  const gap = Math.hypot(
    (metric[UPPER_LIP * 3] as number) - (metric[LOWER_LIP * 3] as number),
    (metric[UPPER_LIP * 3 + 1] as number) - (metric[LOWER_LIP * 3 + 1] as number),
  );
  const height = Math.hypot(
    (metric[FOREHEAD * 3] as number) - (metric[CHIN * 3] as number),
    (metric[FOREHEAD * 3 + 1] as number) - (metric[CHIN * 3 + 1] as number),
  );
  return height > 0 ? gap / height : 0;
}

export class NeutralCalibrator {
  readonly #calibrationMs: number;
  readonly #minFrames: number;
  #firstMs: number | undefined;
  #frames: MetricFace[] = [];
  #neutral: MetricFace | undefined;
  #neutralQuaternion: [number, number, number, number] = [1, 0, 0, 0];
  #neutralGap = 0;
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
    const leastOpen = [...this.#frames].sort((a, b) => metricMouthGap(a.metric) - metricMouthGap(b.metric));
    const shapeFrames = leastOpen.slice(0, Math.max(1, Math.round(leastOpen.length * CALIBRATION_SHAPE_SHARE)));
    this.#neutral = { ...average(this.#frames), metric: average(shapeFrames).metric };
    this.#neutralGap = metricMouthGap(this.#neutral.metric);
    this.#neutralQuaternion = matrixToQuaternion(rotationOf(this.#neutral));
    this.#frames = [];
    return true;
  }

  /**
   * Starts from a neutral calibrated earlier for the same driver (e.g. by the avatar this one
   * replaces: the driver's neutral face does not depend on the identity), skipping calibration;
   * refinement goes on from it. The face is copied.
   */
  seed(neutral: MetricFace): void {
    this.#neutral = {
      metric: Float64Array.from(neutral.metric),
      pose: { linear: Float64Array.from(neutral.pose.linear), translation: Float64Array.from(neutral.pose.translation) },
      totalScale: neutral.totalScale,
      depthOffset: neutral.depthOffset,
    };
    this.#neutralGap = metricMouthGap(this.#neutral.metric);
    this.#neutralQuaternion = matrixToQuaternion(rotationOf(this.#neutral));
    this.#frames = [];
  }

  /** Lip gap / face height of the current neutral (0 before calibration). */
  get neutralMouthGap(): number {
    return this.#neutralGap;
  }

  #refine(face: MetricFace): boolean {
    const neutral = this.#neutral as MetricFace;
    const m = face.metric;
    const gap = metricMouthGap(m);
    const q = matrixToQuaternion(rotationOf(face));
    const dot = Math.abs(q.reduce((s, v, i) => s + v * (this.#neutralQuaternion[i] as number), 0));
    const angle = 2 * Math.acos(Math.min(1, dot));
    if (angle > REFINE_MAX_ANGLE_RAD) return false;
    const weight = gap < this.#neutralGap ? CLOSING_WEIGHT : gap <= this.#neutralGap + REFINE_MOUTH_MARGIN ? REFINE_WEIGHT : 0;
    if (weight === 0) return false;
    for (let i = 0; i < neutral.metric.length; i += 1) {
      neutral.metric[i] = (1 - weight) * (neutral.metric[i] as number) + weight * (m[i] as number);
    }
    this.#neutralGap = metricMouthGap(neutral.metric);
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
