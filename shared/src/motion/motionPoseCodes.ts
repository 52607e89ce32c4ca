import {
  QUAT_NORM_TOLERANCE, QUAT_OFFSET, QUAT_SCALE, SCALE_STEP, TXY_MIN, TXY_STEP, TZ_MIN, TZ_STEP,
} from './motionPacketLayout';

/** The pose fields of a packet as integer codes. */
export type PoseCodes = { qx: number; qy: number; qz: number; tx: number; ty: number; tz: number; scale: number };

/** Dequantised pose: unit quaternion (w ≥ 0), centroid as fractions of width/height/width, RMS radius / width. */
export type DecodedPose = { w: number; x: number; y: number; z: number; tx: number; ty: number; tz: number; scale: number };

/**
 * One dequantiser for both sides: the encoder codes the shape against exactly the pose the
 * decoder will rebuild (closed loop), so pose rounding is partly absorbed by the shape.
 * Returns null for a quaternion no encoder could have produced.
 */
export function poseFromCodes(c: PoseCodes): DecodedPose | null {
  let x = (c.qx - QUAT_OFFSET) / QUAT_SCALE;
  let y = (c.qy - QUAT_OFFSET) / QUAT_SCALE;
  let z = (c.qz - QUAT_OFFSET) / QUAT_SCALE;
  const n2 = x * x + y * y + z * z;
  if (n2 > QUAT_NORM_TOLERANCE) return null;
  let w = 0;
  if (n2 <= 1) {
    w = Math.sqrt(1 - n2);
  } else {
    // Rounding pushed a 180°-ish rotation just past the unit ball: renormalise.
    const n = Math.sqrt(n2);
    x /= n;
    y /= n;
    z /= n;
  }
  return {
    w, x, y, z,
    tx: TXY_MIN + c.tx * TXY_STEP,
    ty: TXY_MIN + c.ty * TXY_STEP,
    tz: TZ_MIN + c.tz * TZ_STEP,
    scale: (c.scale + 1) * SCALE_STEP,
  };
}
