export { LANDMARK_COUNT, MAX_MOTION_PACKET_BYTES, MOTION_PACKET_VERSION, MOTION_SEQ_MODULUS } from './motionConstants';
export type { MotionDecodeResult, MotionFrame, MotionPacketError, MotionPose, MotionSample } from './motionTypes';
export type { MotionBasis } from './motionBasis';
export { loadMotionBasis, parseMotionBasis } from './motionBasis';
export { MotionEncoder } from './MotionEncoder';
export { decodeMotionPacket } from './decodeMotionPacket';
export { LANDMARK_REGIONS } from './landmarkRegions';
export { MotionEncodeError } from './MotionEncodeError';
export type { MotionEncodeFailure } from './MotionEncodeError';
