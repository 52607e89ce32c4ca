/**
 * Version 2 packet layout (little-endian; every packet decodes on its own — no inter-packet state,
 * so loss and reordering on the unordered, no-retransmit data channel cost only the lost frame).
 * L = max(image width, image height): sizes are coded relative to the long side, so one range
 * covers every aspect ratio (v1 coded the scale relative to the width and saturated at 0.5: a
 * close-up on a portrait frame decoded 30 px off, silently).
 *
 *   byte 0      version (2)
 *   byte 1      basis id
 *   bytes 2-3   sequence number, u16
 *   bytes 4-9   capture time, u48, units of 1/16 ms
 *   bytes 10-12 image width (low 12 bits) and height (high 12 bits), 1..4095 each
 *   then a bit stream (LSB-first):
 *     quaternion x, y, z   3 x 12 bits, (code - 2048) / 2047, w = +sqrt(1 - x²-y²-z²)
 *     translation x, y     2 x 15 bits, -1 + code * 3/32767        (fraction of width / height: [-1, 2])
 *     translation z        10 bits,     -0.5 + code * 1/1023       (fraction of L: [-0.5, 0.5])
 *     scale                14 bits, a small float: exponent e (high 3 bits), mantissa m (low 11):
 *                          (2048 + m) * 2^(e - 8 - 11)             (RMS face radius / L: [2^-8, 1))
 *     coefficients         basis.bits[k] bits each, two's-complement-free offset code:
 *                          value = (code - 2^(bits-1)) * basis.steps[k]
 *     zero padding to the byte boundary
 *
 * The scale's relative step is at most 2^-11 at every size; decoding multiplies by exact powers
 * of two only, so Node and Chromium still decode bit-identically. A pose value outside these
 * ranges is refused by the encoder (MotionEncodeError), never clamped.
 *
 * Shape coefficients are a quantiser with a range per component (the basis's, fitted on real
 * faces): an expression beyond a component's range saturates at its limit. The encoder measures
 * what that costs exactly (the basis is orthonormal in its weighted metric, so the error is the
 * clipped amount) and refuses the frame when it exceeds SHAPE_SATURATION_LIMIT of the face's RMS
 * radius; below that the frame is sent and the saturation counted (MotionEncoder.saturation).
 * Measured on the held-out clips d12/d19: 30-37 % of frames touch a limit, costing p95 0.5 %
 * and at most 1.2 % of the radius (under 1 px on the 256 crop); none is refused.
 */
export const HEADER_BYTES = 13;

/** Largest shape error from saturated coefficients that is still sent, as a fraction of the RMS face radius (~2 px on a 256 crop). */
export const SHAPE_SATURATION_LIMIT = 0.03;

export const QUAT_BITS = 12;
export const QUAT_OFFSET = 2048;
export const QUAT_SCALE = 2047;
export const TXY_BITS = 15;
export const TXY_MIN = -1;
export const TXY_STEP = 3 / 32767;
export const TZ_BITS = 10;
export const TZ_MIN = -0.5;
export const TZ_STEP = 1 / 1023;
export const SCALE_EXPONENT_BITS = 3;
export const SCALE_MANTISSA_BITS = 11;
export const SCALE_BITS = SCALE_EXPONENT_BITS + SCALE_MANTISSA_BITS;
/** Exponent code 0 stands for 2^SCALE_MIN_EXPONENT. */
export const SCALE_MIN_EXPONENT = -8;
/** Smallest codable scale (RMS radius / L) and the bound it must stay below. */
export const SCALE_MIN = 2 ** SCALE_MIN_EXPONENT;
export const SCALE_LIMIT = 2 ** (SCALE_MIN_EXPONENT + 2 ** SCALE_EXPONENT_BITS);
export const POSE_BITS = 3 * QUAT_BITS + 2 * TXY_BITS + TZ_BITS + SCALE_BITS;

export const TIME_UNITS_PER_MS = 16;
/** 2^48 time units. */
export const TIME_CODE_LIMIT = 2 ** 48;
export const MAX_IMAGE_SIDE = 4095;
/** Quaternions decoded with x²+y²+z² beyond this are corrupt, not rounding. */
export const QUAT_NORM_TOLERANCE = 1.01;

export function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Uniform quantiser code for v on [min, min + step * (2^bits - 1)], or null when v lies outside
 * the coded range (by more than half a step): the caller refuses rather than clamps.
 */
export function quantize(v: number, min: number, step: number, bits: number): number | null {
  const code = Math.round((v - min) / step);
  return code >= 0 && code <= 2 ** bits - 1 ? code : null;
}
