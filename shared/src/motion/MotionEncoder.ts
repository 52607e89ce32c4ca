import { BitWriter } from './BitWriter';
import { MotionEncodeError } from './MotionEncodeError';
import type { MotionBasis } from './motionBasis';
import { LANDMARK_COUNT, MOTION_PACKET_VERSION } from './motionConstants';
import {
  HEADER_BYTES, MAX_IMAGE_SIDE, QUAT_BITS, QUAT_OFFSET, QUAT_SCALE, SCALE_BITS, SCALE_LIMIT, SCALE_MIN, TIME_CODE_LIMIT,
  SHAPE_SATURATION_LIMIT, TIME_UNITS_PER_MS, TXY_BITS, TXY_MIN, TXY_STEP, TZ_BITS, TZ_MIN, TZ_STEP, clampInt, quantize,
} from './motionPacketLayout';
import { poseFromCodes, scaleToCode } from './motionPoseCodes';
import type { PoseCodes } from './motionPoseCodes';
import type { MotionSample } from './motionTypes';
import { fitRotation, quaternionToMatrix } from './poseMath';

const DIMS = LANDMARK_COUNT * 3;

/** How often the shape quantiser's range limits were hit, and what they cost. */
export interface ShapeSaturation {
  /** Frames sent with at least one shape coefficient at its range limit. */
  frames: number;
  /** RMS landmark error those limits caused in the last frame, as a fraction of the RMS face radius (0 if none). */
  lastError: number;
  /** The largest such error of any frame sent. */
  maxError: number;
}

/**
 * Codes one tracked frame into one self-contained packet: similarity pose (rotation, centroid,
 * scale) + the pose-free canonical shape as quantised basis coefficients. Numbers packets itself
 * (u16, wraps). Throws MotionEncodeError (a RangeError): `invalid_input` for input MediaPipe
 * cannot produce (wrong length, NaN, bad size), `out_of_range` for a pose the layout cannot carry
 * (see motionPacketLayout.ts) — refused, never clamped — and `out_of_range` on field `shape`
 * for an expression whose saturated shape coefficients would move the landmarks by more than
 * SHAPE_SATURATION_LIMIT of the face radius; a refused frame uses no sequence number. Smaller
 * saturations are sent and counted in `saturation`.
 */
export class MotionEncoder {
  readonly #basis: MotionBasis;
  #seq = 0;
  readonly #pixels = new Float64Array(DIMS);
  readonly #canonical = new Float64Array(DIMS);
  readonly #rotation = new Float64Array(9);
  readonly #coefficientCodes: Int32Array;
  /** The mean shape's RMS radius and the basis weights' sum: the saturation error's units. */
  readonly #meanRadius: number;
  readonly #weightSum: number;
  /** Shape saturation of the frames sent so far (see ShapeSaturation). */
  readonly saturation: ShapeSaturation = { frames: 0, lastError: 0, maxError: 0 };

  /** `firstSeq` (default 0) lets a restarted sender continue its numbering. */
  constructor(basis: MotionBasis, options: { firstSeq?: number } = {}) {
    this.#basis = basis;
    this.#seq = (options.firstSeq ?? 0) & 0xffff;
    this.#coefficientCodes = new Int32Array(basis.componentCount);
    let squares = 0;
    for (let i = 0; i < DIMS; i++) squares += basis.mean[i]! ** 2;
    this.#meanRadius = Math.sqrt(squares / LANDMARK_COUNT);
    let weights = 0;
    for (let j = 0; j < LANDMARK_COUNT; j++) weights += basis.weights[j]!;
    this.#weightSum = weights;
  }

  /** Sequence number the next packet will carry. */
  get nextSeq(): number {
    return this.#seq;
  }

  encode(sample: MotionSample): Uint8Array {
    const { landmarks, imageWidth: width, imageHeight: height, captureTimeMs } = sample;
    if (!(landmarks instanceof Float32Array) || landmarks.length !== DIMS) {
      throw new MotionEncodeError('invalid_input', 'landmarks', `landmarks must be a Float32Array of ${DIMS}`);
    }
    for (const side of [width, height]) {
      if (!Number.isInteger(side) || side < 1 || side > MAX_IMAGE_SIDE) throw new MotionEncodeError('invalid_input', 'imageSize', `image side ${side} not in 1..${MAX_IMAGE_SIDE}`);
    }
    const timeCode = Math.round(captureTimeMs * TIME_UNITS_PER_MS);
    if (!Number.isFinite(timeCode) || timeCode < 0 || timeCode >= TIME_CODE_LIMIT) {
      throw new MotionEncodeError('invalid_input', 'captureTimeMs', `captureTimeMs ${captureTimeMs} out of range`);
    }
    const basis = this.#basis;
    const p = this.#pixels;
    let cx = 0, cy = 0, cz = 0;
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      const x = landmarks[j * 3]! * width, y = landmarks[j * 3 + 1]! * height, z = landmarks[j * 3 + 2]! * width;
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) throw new MotionEncodeError('invalid_input', 'landmarks', `landmark ${j} is not finite`);
      p[j * 3] = x; p[j * 3 + 1] = y; p[j * 3 + 2] = z;
      cx += x; cy += y; cz += z;
    }
    cx /= LANDMARK_COUNT; cy /= LANDMARK_COUNT; cz /= LANDMARK_COUNT;
    let ss = 0;
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      p[j * 3]! -= cx; p[j * 3 + 1]! -= cy; p[j * 3 + 2]! -= cz;
      ss += p[j * 3]! ** 2 + p[j * 3 + 1]! ** 2 + p[j * 3 + 2]! ** 2;
    }
    const radius = Math.sqrt(ss / LANDMARK_COUNT);
    if (!(radius > 0)) throw new MotionEncodeError('invalid_input', 'landmarks', 'degenerate landmarks (all points equal)');

    const [qw, qx, qy, qz] = fitRotation(basis.mean, p, LANDMARK_COUNT);
    const sign = qw < 0 ? -1 : 1;
    const long = Math.max(width, height);
    const codes: PoseCodes = {
      qx: clampInt(Math.round(sign * qx * QUAT_SCALE), -QUAT_SCALE, QUAT_SCALE) + QUAT_OFFSET,
      qy: clampInt(Math.round(sign * qy * QUAT_SCALE), -QUAT_SCALE, QUAT_SCALE) + QUAT_OFFSET,
      qz: clampInt(Math.round(sign * qz * QUAT_SCALE), -QUAT_SCALE, QUAT_SCALE) + QUAT_OFFSET,
      tx: codable('translation.x', cx / width, quantize(cx / width, TXY_MIN, TXY_STEP, TXY_BITS), 'of the width', [TXY_MIN, TXY_MIN + TXY_STEP * (2 ** TXY_BITS - 1)]),
      ty: codable('translation.y', cy / height, quantize(cy / height, TXY_MIN, TXY_STEP, TXY_BITS), 'of the height', [TXY_MIN, TXY_MIN + TXY_STEP * (2 ** TXY_BITS - 1)]),
      tz: codable('translation.z', cz / long, quantize(cz / long, TZ_MIN, TZ_STEP, TZ_BITS), 'of the long side', [TZ_MIN, TZ_MIN + TZ_STEP * (2 ** TZ_BITS - 1)]),
      scale: codable('scale', radius / long, scaleToCode(radius / long), 'of the long side (RMS face radius)', [SCALE_MIN, SCALE_LIMIT]),
    };
    // Closed loop: express the shape in the frame of the pose the decoder will rebuild.
    const pose = poseFromCodes(codes, width, height)!;
    const r = quaternionToMatrix(pose.w, pose.x, pose.y, pose.z, this.#rotation);
    const tx = pose.tx, ty = pose.ty, tz = pose.tz;
    const inv = 1 / pose.scale;
    const q = this.#canonical;
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      const dx = p[j * 3]! + cx - tx, dy = p[j * 3 + 1]! + cy - ty, dz = p[j * 3 + 2]! + cz - tz;
      // Rᵀ·d: canonical = Rᵀ (P − t) / s
      q[j * 3] = (r[0]! * dx + r[3]! * dy + r[6]! * dz) * inv - basis.mean[j * 3]!;
      q[j * 3 + 1] = (r[1]! * dx + r[4]! * dy + r[7]! * dz) * inv - basis.mean[j * 3 + 1]!;
      q[j * 3 + 2] = (r[2]! * dx + r[5]! * dy + r[8]! * dz) * inv - basis.mean[j * 3 + 2]!;
    }

    // Shape coefficients first: a frame refused for saturation must not take a sequence number.
    const coefficientCodes = this.#coefficientCodes;
    let clipped = 0; // sum of squared clipped amounts, in the basis's weighted metric
    for (let k = 0; k < basis.componentCount; k++) {
      const b = basis.bits[k]!;
      if (b === 0) continue;
      // Weighted projection onto component k (the basis is orthonormal in the weighted metric).
      let c = 0;
      const row = k * DIMS;
      for (let i = 0; i < DIMS; i++) c += basis.weights[(i / 3) | 0]! * basis.components[row + i]! * q[i]!;
      const half = 1 << (b - 1);
      const raw = Math.round(c / basis.steps[k]!) + half;
      const code = clampInt(raw, 0, 2 * half - 1);
      if (code !== raw) clipped += (c - (code - half) * basis.steps[k]!) ** 2;
      coefficientCodes[k] = code;
    }
    const saturationError = Math.sqrt(clipped / this.#weightSum) / this.#meanRadius;
    if (saturationError > SHAPE_SATURATION_LIMIT) {
      throw new MotionEncodeError('out_of_range', 'shape',
        `expression beyond the motion basis: saturated shape coefficients would move the landmarks by ${(100 * saturationError).toFixed(1)}% of the face radius (limit ${100 * SHAPE_SATURATION_LIMIT}%)`);
    }
    this.saturation.lastError = saturationError;
    if (saturationError > 0) {
      this.saturation.frames += 1;
      this.saturation.maxError = Math.max(this.saturation.maxError, saturationError);
    }

    const bytes = new Uint8Array(basis.packetBytes);
    const view = new DataView(bytes.buffer);
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    view.setUint8(0, MOTION_PACKET_VERSION);
    view.setUint8(1, basis.id);
    view.setUint16(2, seq, true);
    view.setUint32(4, timeCode % 2 ** 32, true);
    view.setUint16(8, Math.floor(timeCode / 2 ** 32), true);
    const size = width | (height << 12);
    bytes[10] = size & 0xff;
    bytes[11] = (size >>> 8) & 0xff;
    bytes[12] = (size >>> 16) & 0xff;
    const bits = new BitWriter(bytes, HEADER_BYTES);
    bits.write(codes.qx, QUAT_BITS);
    bits.write(codes.qy, QUAT_BITS);
    bits.write(codes.qz, QUAT_BITS);
    bits.write(codes.tx, TXY_BITS);
    bits.write(codes.ty, TXY_BITS);
    bits.write(codes.tz, TZ_BITS);
    bits.write(codes.scale, SCALE_BITS);
    for (let k = 0; k < basis.componentCount; k++) {
      const b = basis.bits[k]!;
      if (b !== 0) bits.write(coefficientCodes[k]!, b);
    }
    return bytes;
  }
}

/** A field's code, or MotionEncodeError('out_of_range') naming the value and the coded range. */
function codable(field: string, value: number, code: number | null, unit: string, [lo, hi]: [number, number]): number {
  if (code !== null) return code;
  throw new MotionEncodeError('out_of_range', field, `${field} ${value.toPrecision(4)} ${unit} is outside the coded range [${lo.toPrecision(4)}, ${hi.toPrecision(4)}]`);
}
