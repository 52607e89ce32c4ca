/**
 * What MotionStream needs from a decoded motion frame and from the decoder. The shared codec's
 * `MotionFrame` / `decodeMotionPacket` (shared/src/motion) satisfy these structurally; keeping
 * the stream generic lets it carry the codec's full frame type through to its consumers.
 */
export interface DecodedMotionFrame {
  /** The sender's packet counter (wraps). */
  seq: number;
  /** Sender's clock, milliseconds. */
  captureTimeMs: number;
  /** 478*3: x, y normalised to the image, z as MediaPipe gives it. */
  landmarks: Float32Array;
  pose: { rotation: Float32Array; translation: Float32Array; scale: number };
  imageWidth: number;
  imageHeight: number;
}

export type MotionDecodeOutcome<F> =
  | { ok: true; frame: F }
  | { ok: false; error: string; message: string };

export type MotionPacketDecodeFn<F> = (bytes: Uint8Array) => MotionDecodeOutcome<F>;

/**
 * Why a packet was dropped. Codec errors ('truncated', 'bad_version', ...) pass through as
 * the codec names them; the rest are the stream's own checks.
 */
export type MotionDropReason =
  | 'not_binary' // a string message on the motion channel
  | 'rate_limited' // over the per-peer token bucket
  | 'oversized' // longer than the codec's largest packet, refused before decoding
  | 'bad_value' // decoded, but NaN / out-of-range landmarks, pose or image size
  | 'duplicate' // a sequence number already received
  | 'seq_jump' // a sequence number far from the stream's (not confirmed by the next packet)
  | 'future' // capture time ahead of what its arrival allows
  | 'stale' // captured too long before it arrived
  | 'late' // arrived after a later-captured frame was already played out
  | 'overflow' // the jitter buffer was full
  | 'internal' // the stream itself failed on this packet (a bug; logged)
  | (string & {}); // codec error codes
