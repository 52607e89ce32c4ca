/**
 * Version 1 packet layout (little-endian; every packet decodes on its own — no inter-packet state,
 * so loss and reordering on the unordered, no-retransmit data channel cost only the lost frame):
 *
 *   byte 0      version (1)
 *   byte 1      basis id
 *   bytes 2-3   sequence number, u16
 *   bytes 4-9   capture time, u48, units of 1/16 ms
 *   bytes 10-12 image width (low 12 bits) and height (high 12 bits), 1..4095 each
 *   then a bit stream (LSB-first):
 *     quaternion x, y, z   3 x 12 bits, (code - 2048) / 2047, w = +sqrt(1 - x²-y²-z²)
 *     translation x, y     2 x 15 bits, -0.5 + code * 2/32767      (fraction of width / height)
 *     translation z        10 bits,     -0.5 + code * 1/1023       (fraction of width)
 *     scale                14 bits,     (code + 1) * 0.5/16384     (RMS face radius / width)
 *     coefficients         basis.bits[k] bits each, two's-complement-free offset code:
 *                          value = (code - 2^(bits-1)) * basis.steps[k]
 *     zero padding to the byte boundary
 */
export const HEADER_BYTES = 13;

export const QUAT_BITS = 12;
export const QUAT_OFFSET = 2048;
export const QUAT_SCALE = 2047;
export const TXY_BITS = 15;
export const TXY_MIN = -0.5;
export const TXY_STEP = 2 / 32767;
export const TZ_BITS = 10;
export const TZ_MIN = -0.5;
export const TZ_STEP = 1 / 1023;
export const SCALE_BITS = 14;
export const SCALE_STEP = 0.5 / 16384;
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

/** Uniform quantiser code for value v on [min, min + step * (2^bits - 1)], clamped. */
export function quantize(v: number, min: number, step: number, bits: number): number {
  return clampInt(Math.round((v - min) / step), 0, 2 ** bits - 1);
}
