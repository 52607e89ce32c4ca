/**
 * A face's motion relative to a neutral, already expressed on the identity: what the session
 * holds, eases and perturbs (idle motion) before projecting it with `Retargeter.project`.
 * The neutral is `neutralDelta()` (no expression, no head motion).
 */

export interface FaceDelta {
  /** 478*3 float64: pose-free metric offsets (cm) added to the identity's shape. */
  expression: Float64Array;
  /** Head rotation relative to the neutral, unit quaternion (w, x, y, z), applied before the identity's rotation. */
  rotation: [number, number, number, number];
  /** Head translation relative to the neutral, on the identity's camera (cm). */
  translation: [number, number, number];
  /** Driver pose scale / neutral pose scale. */
  scaleRatio: number;
  /** Driver unprojection scale / neutral unprojection scale (MediaPipe z). */
  totalScaleRatio: number;
  /** Depth offset change, in the identity's screen-z units. */
  depthOffsetDelta: number;
}

export const FACE_DELTA_POINTS = 478;

export function neutralDelta(): FaceDelta {
  return {
    expression: new Float64Array(FACE_DELTA_POINTS * 3),
    rotation: [1, 0, 0, 0],
    translation: [0, 0, 0],
    scaleRatio: 1,
    totalScaleRatio: 1,
    depthOffsetDelta: 0,
  };
}

export function cloneDelta(d: FaceDelta): FaceDelta {
  return {
    expression: Float64Array.from(d.expression),
    rotation: [...d.rotation],
    translation: [...d.translation],
    scaleRatio: d.scaleRatio,
    totalScaleRatio: d.totalScaleRatio,
    depthOffsetDelta: d.depthOffsetDelta,
  };
}

/** Normalised linear interpolation of unit quaternions (shortest arc); t in [0, 1]. */
export function nlerpQuaternion(
  a: readonly [number, number, number, number],
  b: readonly [number, number, number, number],
  t: number,
): [number, number, number, number] {
  const sign = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3] < 0 ? -1 : 1;
  const q: [number, number, number, number] = [0, 1, 2, 3].map((i) => (1 - t) * a[i]! + t * sign * b[i]!) as [number, number, number, number];
  const n = Math.hypot(...q);
  return q.map((v) => v / n) as [number, number, number, number];
}

/** (1 − t)·a + t·b for every field (t = 0 gives a, 1 gives b). Writes into `out` if given. */
export function mixDelta(a: FaceDelta, b: FaceDelta, t: number, out: FaceDelta = neutralDelta()): FaceDelta {
  for (let i = 0; i < out.expression.length; i += 1) {
    out.expression[i] = (1 - t) * (a.expression[i] as number) + t * (b.expression[i] as number);
  }
  out.rotation = nlerpQuaternion(a.rotation, b.rotation, t);
  out.translation = [0, 1, 2].map((i) => (1 - t) * a.translation[i]! + t * b.translation[i]!) as [number, number, number];
  out.scaleRatio = (1 - t) * a.scaleRatio + t * b.scaleRatio;
  out.totalScaleRatio = (1 - t) * a.totalScaleRatio + t * b.totalScaleRatio;
  out.depthOffsetDelta = (1 - t) * a.depthOffsetDelta + t * b.depthOffsetDelta;
  return out;
}

/** Unit quaternion (w, x, y, z) of a rotation matrix (row-major 3×3). */
export function matrixToQuaternion(m: ArrayLike<number>): [number, number, number, number] {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = Array.from(m) as number[] as [number, number, number, number, number, number, number, number, number];
  const trace = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    q = [0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s];
  }
  const n = Math.hypot(...q);
  return q.map((v) => v / n) as [number, number, number, number];
}

/** Rotation matrix (row-major 3×3) of the unit quaternion (w, x, y, z). */
export function quaternionToMatrix([w, x, y, z]: readonly [number, number, number, number]): Float64Array {
  return Float64Array.of(
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  );
}

/** Quaternion of a rotation by `angle` radians about the unit axis (x, y, z). */
export function axisAngleQuaternion(x: number, y: number, z: number, angle: number): [number, number, number, number] {
  const s = Math.sin(angle / 2);
  return [Math.cos(angle / 2), x * s, y * s, z * s];
}

/** Hamilton product a·b (apply b, then a). */
export function multiplyQuaternions(
  a: readonly [number, number, number, number],
  b: readonly [number, number, number, number],
): [number, number, number, number] {
  const [aw, ax, ay, az] = a;
  const [bw, bx, by, bz] = b;
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}
