/** Binds the shared motion codec (shared/src/motion) for MotionService. */
import { decodeMotionPacket, loadMotionBasis, MAX_MOTION_PACKET_BYTES, MOTION_SEQ_MODULUS, type MotionFrame } from '@shared/motion';
import type { MotionCodecBinding } from './MotionService';

export function sharedMotionCodec(): MotionCodecBinding<MotionFrame> {
  const basis = loadMotionBasis();
  return {
    // Packets are self-contained (no inter-packet state), so one decoder function serves all.
    createDecoder: () => (bytes) => decodeMotionPacket(bytes, basis),
    maxPacketBytes: MAX_MOTION_PACKET_BYTES,
    seqModulus: MOTION_SEQ_MODULUS,
  };
}
