import {
  QUAT_NORM_TOLERANCE, QUAT_OFFSET, QUAT_SCALE, SCALE_EXPONENT_BITS, SCALE_MANTISSA_BITS, SCALE_MIN_EXPONENT, TXY_MIN,
  TXY_STEP, TZ_MIN, TZ_STEP,
} from './motionPacketLayout';

/** The pose fields of a packet as integer codes. */
export type PoseCodes = { qx: number; qy: number; qz: number; tx: number; ty: number; tz: number; scale: number };

/** Dequantised pose in pixels: unit quaternion (w ≥ 0), centroid (x, y, z) and RMS radius. */
export type DecodedPose = { w: number; x: number; y: number; z: number; tx: number; ty: number; tz: number; scale: number };

const MANTISSA_ONE = 2 ** SCALE_MANTISSA_BITS;
/** 2^(e + SCALE_MIN_EXPONENT - SCALE_MANTISSA_BITS) for each exponent code e: exact powers of two. */
const SCALE_UNIT = Array.from({ length: 2 ** SCALE_EXPONENT_BITS }, (_, e) => 2 ** (e + SCALE_MIN_EXPONENT - SCALE_MANTISSA_BITS));

/** The scale (RMS radius / L) a 14-bit scale code stands for. */
export function scaleFromCode(code: number): number {
  return (MANTISSA_ONE + (code & (MANTISSA_ONE - 1))) * SCALE_UNIT[code >>> SCALE_MANTISSA_BITS]!;
}

/** The nearest scale code for `scale` (RMS radius / L), or null outside [2^-8, 1). */
export function scaleToCode(scale: number): number | null {
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  let e = Math.floor(Math.log2(scale)) - SCALE_MIN_EXPONENT;
  // log2 may be off by one at exact powers of two: settle e so that 1 ≤ scale / 2^(e+min) < 2.
  while (e >= 0 && scale < 2 ** (e + SCALE_MIN_EXPONENT)) e -= 1;
  while (scale >= 2 ** (e + 1 + SCALE_MIN_EXPONENT)) e += 1;
  // Just below the smallest scale, within half a step: rounds to it. Further below: not codable.
  if (e < 0) return scale >= SCALE_UNIT[0]! * (MANTISSA_ONE - 0.5) ? 0 : null;
  let m = Math.round(scale / SCALE_UNIT[e]!) - MANTISSA_ONE;
  if (m === MANTISSA_ONE) {
    e += 1; // rounded up to the next power of two
    m = 0;
  }
  if (e >= 2 ** SCALE_EXPONENT_BITS) return null;
  return (e << SCALE_MANTISSA_BITS) | m;
}

/**
 * One dequantiser for both sides: the encoder codes the shape against exactly the pose the
 * decoder will rebuild (closed loop), so pose rounding is partly absorbed by the shape.
 * Only +, −, ×, ÷ and √ (IEEE-exact) on float64. Returns null for a quaternion no encoder could
 * have produced.
 */
export function poseFromCodes(c: PoseCodes, width: number, height: number): DecodedPose | null {
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
  const long = width > height ? width : height;
  return {
    w, x, y, z,
    tx: (TXY_MIN + c.tx * TXY_STEP) * width,
    ty: (TXY_MIN + c.ty * TXY_STEP) * height,
    tz: (TZ_MIN + c.tz * TZ_STEP) * long,
    scale: scaleFromCode(c.scale) * long,
  };
}
