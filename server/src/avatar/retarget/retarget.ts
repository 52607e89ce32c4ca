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
import { matrixToQuaternion, neutralDelta, quaternionToMatrix, type FaceDelta } from './faceDelta';

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
  #neutralRotation: Float64Array = new Float64Array(9);
  #neutralScale = 1;
  #axisScale: [number, number, number] = [1, 1, 1];
  #expressionGain: number;
  readonly #scratch: Float64Array;

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
    this.#scratch = new Float64Array(this.#target.metric.length);
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
   * One driver frame (already lifted with `lift`) → its motion relative to the driver's neutral,
   * expressed on the identity (expression scaled by the face proportions × gain, translation by
   * the camera-distance ratio). Throws if no neutral is set.
   */
  delta(driver: MetricFace, out: FaceDelta = neutralDelta()): FaceDelta {
    const neutral = this.#neutral;
    if (!neutral) throw new Error('Retargeter: no driver neutral set (calibrate first)');
    return this.#delta(driver, neutral, this.#neutralRotation, this.#neutralScale, this.#axisScale, this.#expressionGain, out);
  }

  /**
   * Landmarks already in the identity's image (an audio-driven source) → their motion relative
   * to the identity's own neutral (no proportion scaling: the identity drives itself).
   */
  identityDelta(landmarks: ArrayLike<number>, out: FaceDelta = neutralDelta()): FaceDelta {
    const face = toMetric(landmarks, this.width, this.height, this.#mesh);
    return this.#delta(face, this.#target, this.#targetRotation, this.#targetScale, [1, 1, 1], 1, out);
  }

  /** A FaceDelta on the identity → normalised landmarks in its image, written into `out` (478*3). */
  project(delta: FaceDelta, out: Float32Array): Float32Array {
    const t = this.#target;
    const count = t.metric.length / 3;
    const metric = this.#scratch;
    for (let i = 0; i < count * 3; i += 1) metric[i] = (t.metric[i] as number) + (delta.expression[i] as number);
    const rOut = mul3(quaternionToMatrix(delta.rotation), this.#targetRotation);
    const sOut = this.#targetScale * delta.scaleRatio;
    const tt = t.pose.translation;
    const translation = Float64Array.of(
      (tt[0] as number) + delta.translation[0],
      (tt[1] as number) + delta.translation[1],
      (tt[2] as number) + delta.translation[2],
    );
    const totalScale = t.totalScale * delta.totalScaleRatio;
    const depthOffset = t.depthOffset + delta.depthOffsetDelta;
    return toScreen(metric, { linear: rOut.map((v) => v * sOut), translation }, totalScale, depthOffset, this.width, this.height, out);
  }

  /** One lifted driver frame → identity landmarks (`delta` then `project`). */
  retargetMetric(driver: MetricFace, out: Float32Array): Float32Array {
    return this.project(this.delta(driver), out);
  }

  #delta(
    face: MetricFace,
    neutral: MetricFace,
    neutralRotation: Float64Array,
    neutralScale: number,
    k: readonly [number, number, number],
    gain: number,
    out: FaceDelta,
  ): FaceDelta {
    const count = Math.min(face.metric.length, out.expression.length) / 3;
    for (let p = 0; p < count; p += 1) {
      for (let d = 0; d < 3; d += 1) {
        const i = p * 3 + d;
        out.expression[i] = ((face.metric[i] as number) - (neutral.metric[i] as number)) * ((k[d] as number) * gain);
      }
    }
    const { rotation: rd, scale: sd } = split(face.pose);
    out.rotation = matrixToQuaternion(mul3(rd, neutralRotation, true));
    out.scaleRatio = sd / neutralScale;
    const depthRatio = (this.#target.pose.translation[2] as number) / (neutral.pose.translation[2] as number);
    out.translation = [0, 1, 2].map(
      (d) => ((face.pose.translation[d] as number) - (neutral.pose.translation[d] as number)) * depthRatio,
    ) as [number, number, number];
    out.totalScaleRatio = face.totalScale / neutral.totalScale;
    out.depthOffsetDelta = (face.depthOffset - neutral.depthOffset) * (this.#target.totalScale / neutral.totalScale);
    return out;
  }

  /** `lift` then `retargetMetric`. */
  retarget(landmarks: ArrayLike<number>, width: number, height: number, out: Float32Array): Float32Array {
    return this.retargetMetric(this.lift(landmarks, width, height), out);
  }
}
