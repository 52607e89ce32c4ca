/**
 * Why a tracked frame could not be coded. `out_of_range`: a pose value lies outside what the
 * packet layout can carry (motionPacketLayout.ts: face centroid more than one image outside the
 * frame, face radius below 2^-8 or at/above 1 × the image's long side); the frame is refused, never
 * clamped into wrong motion. `invalid_input`: not something MediaPipe produces (wrong length, NaN,
 * bad image size or capture time). Either way no sequence number is used.
 */
export type MotionEncodeFailure = 'out_of_range' | 'invalid_input';

export class MotionEncodeError extends RangeError {
  override readonly name = 'MotionEncodeError';
  constructor(
    readonly reason: MotionEncodeFailure,
    /** The field at fault: 'scale', 'translation.x', 'landmarks', 'imageWidth', … */
    readonly field: string,
    message: string,
  ) {
    super(`motion encode: ${message}`);
  }
}
