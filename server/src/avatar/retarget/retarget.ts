/**
 * Live motion retargeting: a driver's head pose and expression drive the identity's landmarks.
 * A port of models/avatar_ml/landmarks/retarget.py for one frame at a time (parity-tested on
 * vectors the Python writes, retarget.test.ts):
 *
 * - expression: the pose-free metric deltas of the driver against its neutral, scaled per axis by
 *   the identity/driver face proportions (width, height, their mean) × `expressionGain`, added to
 *   the identity's pose-free shape;
 * - pose: the driver's rotation relative to its neutral on top of the identity's rotation, the
 *   scale ratio, and the translation delta scaled by the ratio of camera distances;
 * - z: the driver's changes of unprojection scale and depth offset carried over;
 * - projected with the identity's camera (its reference image size) to normalised landmarks.
 *
 * A driver retargeted onto its own neutral reproduces itself.
 */
import { loadCanonicalFaceMesh, type CanonicalFaceMesh } from './canonicalFaceMesh';
import { toMetric, toScreen, type MetricFace, type Similarity } from './faceGeometry';

const FACE_WIDTH = [234, 454] as const;
const FACE_HEIGHT = [10, 152] as const;

function distance(metric: Float64Array, a: number, b: number): number {
  return Math.hypot(
    (metric[a * 3] as number) - (metric[b * 3] as number),
    (metric[a * 3 + 1] as number) - (metric[b * 3 + 1] as number),
    (metric[a * 3 + 2] as number) - (metric[b * 3 + 2] as number),
  );
}

/** Per-axis face size of pose-free metric landmarks: [width, height, (width + height) / 2]. */
export function faceProportions(metric: Float64Array): [number, number, number] {
  const w = distance(metric, FACE_WIDTH[0], FACE_WIDTH[1]);
  const h = distance(metric, FACE_HEIGHT[0], FACE_HEIGHT[1]);
  return [w, h, (w + h) / 2];
}

/** Splits sR into (R, s). */
function split(pose: Similarity): { rotation: Float64Array; scale: number } {
  const scale = Math.hypot(pose.linear[0] as number, pose.linear[3] as number, pose.linear[6] as number);
  return { rotation: pose.linear.map((v) => v / scale), scale };
}

function mul3(a: Float64Array, b: Float64Array, transposeB = false): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i += 1) {
    for (let j = 0; j < 3; j += 1) {
      let sum = 0;
      for (let k = 0; k < 3; k += 1) sum += (a[i * 3 + k] as number) * (transposeB ? (b[j * 3 + k] as number) : (b[k * 3 + j] as number));
      out[i * 3 + j] = sum;
    }
  }
  return out;
}

export interface RetargetTarget {
  /** The identity's neutral landmarks, 478*3, normalised to its reference image. */
  landmarks: ArrayLike<number>;
  width: number;
  height: number;
}

/**
 * Retargets driver frames onto one identity. Construct once per session; `setDriverNeutral`
 * (from calibration) before `retarget`. Not thread-safe state; one per session.
 */
export class Retargeter {
  readonly width: number;
  readonly height: number;
  readonly #mesh: CanonicalFaceMesh;
  readonly #target: MetricFace;
  readonly #targetRotation: Float64Array;
  readonly #targetScale: number;
  readonly #targetProportions: [number, number, number];
  #neutral: MetricFace | undefined;
  #neutralRotation = new Float64Array(9);
  #neutralScale = 1;
  #axisScale: [number, number, number] = [1, 1, 1];
  #expressionGain: number;

  constructor(target: RetargetTarget, options: { expressionGain?: number } = {}) {
    this.#mesh = loadCanonicalFaceMesh();
    this.width = target.width;
    this.height = target.height;
    this.#target = toMetric(target.landmarks, target.width, target.height, this.#mesh);
    const { rotation, scale } = split(this.#target.pose);
    this.#targetRotation = rotation;
    this.#targetScale = scale;
    this.#targetProportions = faceProportions(this.#target.metric);
    this.#expressionGain = options.expressionGain ?? 1;
  }

  /** The identity's own metric face (for calibration and idle motion). */
  get target(): MetricFace {
    return this.#target;
  }

  get hasNeutral(): boolean {
    return this.#neutral !== undefined;
  }

  /** Lifts driver landmarks (478*3 normalised in a width×height image) to metric space. */
  lift(landmarks: ArrayLike<number>, width: number, height: number): MetricFace {
    return toMetric(landmarks, width, height, this.#mesh);
  }

  /** Sets the driver's neutral face (one frame's, or a calibrated average). */
  setDriverNeutral(neutral: MetricFace): void {
    this.#neutral = neutral;
    const { rotation, scale } = split(neutral.pose);
    this.#neutralRotation = rotation;
    this.#neutralScale = scale;
    const driver = faceProportions(neutral.metric);
    this.#axisScale = [
      this.#targetProportions[0] / driver[0],
      this.#targetProportions[1] / driver[1],
      this.#targetProportions[2] / driver[2],
    ];
  }

  /**
   * One driver frame (already lifted with `lift`) → identity landmarks written into `out`
   * (478*3 float32, normalised to the identity's image). Throws if no neutral is set.
   */
  retargetMetric(driver: MetricFace, out: Float32Array): Float32Array {
    const neutral = this.#neutral;
    if (!neutral) throw new Error('Retargeter: no driver neutral set (calibrate first)');
    const t = this.#target;
    const k = this.#axisScale;
    const g = this.#expressionGain;
    const count = t.metric.length / 3;
    const metric = new Float64Array(count * 3);
    for (let p = 0; p < count; p += 1) {
      for (let d = 0; d < 3; d += 1) {
        const i = p * 3 + d;
        metric[i] = (t.metric[i] as number) + ((driver.metric[i] as number) - (neutral.metric[i] as number)) * ((k[d] as number) * g);
      }
    }
    const { rotation: rd, scale: sd } = split(driver.pose);
    const rOut = mul3(mul3(rd, this.#neutralRotation, true), this.#targetRotation);
    const sOut = (this.#targetScale * sd) / this.#neutralScale;
    const tt = t.pose.translation;
    const depthRatio = (tt[2] as number) / (neutral.pose.translation[2] as number);
    const translation = new Float64Array(3);
    for (let d = 0; d < 3; d += 1) {
      translation[d] = (tt[d] as number) + ((driver.pose.translation[d] as number) - (neutral.pose.translation[d] as number)) * depthRatio;
    }
    const totalScale = (t.totalScale * driver.totalScale) / neutral.totalScale;
    const depthOffset = t.depthOffset + (driver.depthOffset - neutral.depthOffset) * (t.totalScale / neutral.totalScale);
    return toScreen(metric, { linear: rOut.map((v) => v * sOut), translation }, totalScale, depthOffset, this.width, this.height, out);
  }

  /** `lift` then `retargetMetric`. */
  retarget(landmarks: ArrayLike<number>, width: number, height: number, out: Float32Array): Float32Array {
    return this.retargetMetric(this.lift(landmarks, width, height), out);
  }
}
