/** The shared motion codec as the page uses it: one parsed basis, an encoder per uplink. */
import { loadMotionBasis, MotionEncoder, type MotionBasis } from '@shared/motion';

let basis: MotionBasis | undefined;

/** The shipped basis, parsed once per page. */
export function motionBasis(): MotionBasis {
  basis ??= loadMotionBasis();
  return basis;
}

/** A fresh encoder (its sequence numbers start at 0 with each new motion channel). */
export function createMotionEncoder(): MotionEncoder {
  return new MotionEncoder(motionBasis());
}
