import { BitReader } from './BitReader';
import type { MotionBasis } from './motionBasis';
import { LANDMARK_COUNT, MAX_MOTION_PACKET_BYTES, MOTION_PACKET_VERSION } from './motionConstants';
import { HEADER_BYTES, QUAT_BITS, SCALE_BITS, TIME_UNITS_PER_MS, TXY_BITS, TZ_BITS } from './motionPacketLayout';
import { poseFromCodes } from './motionPoseCodes';
import type { MotionDecodeResult, MotionPacketError } from './motionTypes';
import { quaternionToMatrix } from './poseMath';

const DIMS = LANDMARK_COUNT * 3;

function fail(error: MotionPacketError, message: string): MotionDecodeResult {
  return { ok: false, error, message };
}

/**
 * Decodes one packet on its own (no state: loss and reordering cost only that frame). Never throws:
 * every malformed input is an error result. Float64 arithmetic in a fixed order with only
 * +, -, *, /, sqrt (IEEE-exact), rounded once to float32, so browser and Node agree bit for bit.
 */
export function decodeMotionPacket(bytes: Uint8Array, basis: MotionBasis): MotionDecodeResult {
  if (!(bytes instanceof Uint8Array)) return fail('bad_type', 'motion packet must be a Uint8Array');
  if (bytes.byteLength > MAX_MOTION_PACKET_BYTES) return fail('oversized', `${bytes.byteLength} bytes > ${MAX_MOTION_PACKET_BYTES}`);
  if (bytes.byteLength < 1) return fail('truncated', 'empty packet');
  if (bytes[0] !== MOTION_PACKET_VERSION) return fail('bad_version', `version ${bytes[0]}, this build decodes ${MOTION_PACKET_VERSION}`);
  if (bytes.byteLength < HEADER_BYTES) return fail('truncated', `${bytes.byteLength} bytes < ${HEADER_BYTES}-byte header`);
  if (bytes[1] !== basis.id) return fail('bad_basis', `basis ${bytes[1]}, this decoder holds ${basis.id}`);
  if (bytes.byteLength < basis.packetBytes) return fail('truncated', `${bytes.byteLength} bytes < ${basis.packetBytes}`);
  if (bytes.byteLength > basis.packetBytes) return fail('bad_length', `${bytes.byteLength} bytes > ${basis.packetBytes}`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = view.getUint16(2, true);
  const timeCode = view.getUint32(4, true) + view.getUint16(8, true) * 4294967296;
  const size = bytes[10]! | (bytes[11]! << 8) | (bytes[12]! << 16);
  const width = size & 0xfff;
  const height = size >>> 12;
  if (width === 0 || height === 0) return fail('bad_value', `image size ${width}x${height}`);

  const bits = new BitReader(bytes, HEADER_BYTES);
  const pose = poseFromCodes({
    qx: bits.read(QUAT_BITS), qy: bits.read(QUAT_BITS), qz: bits.read(QUAT_BITS),
    tx: bits.read(TXY_BITS), ty: bits.read(TXY_BITS), tz: bits.read(TZ_BITS), scale: bits.read(SCALE_BITS),
  }, width, height);
  if (!pose) return fail('bad_value', 'rotation quaternion outside the unit ball');

  // Canonical shape: mean + Σ_k value_k · component_k, summed in ascending k for every point.
  const shape = Float64Array.from(basis.mean);
  for (let k = 0; k < basis.componentCount; k++) {
    const b = basis.bits[k]!;
    if (b === 0) continue;
    const value = (bits.read(b) - (1 << (b - 1))) * basis.steps[k]!;
    if (value === 0) continue;
    const row = k * DIMS;
    for (let i = 0; i < DIMS; i++) shape[i] = shape[i]! + value * basis.components[row + i]!;
  }
  const used = bits.bitPosition;
  if (used < bytes.byteLength * 8 && bits.read(bytes.byteLength * 8 - used) !== 0) return fail('bad_value', 'padding bits are not zero');

  const r = quaternionToMatrix(pose.w, pose.x, pose.y, pose.z, new Float64Array(9));
  const s = pose.scale;
  const tx = pose.tx, ty = pose.ty, tz = pose.tz;
  const landmarks = new Float32Array(DIMS);
  for (let j = 0; j < LANDMARK_COUNT; j++) {
    const x = shape[j * 3]!, y = shape[j * 3 + 1]!, z = shape[j * 3 + 2]!;
    landmarks[j * 3] = (s * (r[0]! * x + r[1]! * y + r[2]! * z) + tx) / width;
    landmarks[j * 3 + 1] = (s * (r[3]! * x + r[4]! * y + r[5]! * z) + ty) / height;
    landmarks[j * 3 + 2] = (s * (r[6]! * x + r[7]! * y + r[8]! * z) + tz) / width;
  }
  for (let i = 0; i < DIMS; i++) if (!Number.isFinite(landmarks[i]!)) return fail('bad_value', 'non-finite landmark');

  return {
    ok: true,
    frame: {
      seq,
      captureTimeMs: timeCode / TIME_UNITS_PER_MS,
      landmarks,
      pose: {
        rotation: Float32Array.from(r),
        translation: Float32Array.of(tx / width, ty / height, tz / width),
        scale: s / width,
      },
      imageWidth: width,
      imageHeight: height,
    },
  };
}
