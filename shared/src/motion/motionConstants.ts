/** MediaPipe Face Landmarker points per face (468 mesh + 10 iris). */
export const LANDMARK_COUNT = 478;
/** Packet layout version; bumped whenever the layout or its meaning changes. */
export const MOTION_PACKET_VERSION = 2;
/**
 * No packet of any version this build accepts is larger; anything bigger is rejected as
 * 'oversized' before it is looked at (version 2 packets are 64 bytes with the shipped basis).
 */
export const MAX_MOTION_PACKET_BYTES = 128;
/** Sequence numbers are a u16 field in every packet version so far. */
export const MOTION_SEQ_MODULUS = 0x10000;
