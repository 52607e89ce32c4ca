/** One tracked video frame, straight from MediaPipe FaceLandmarker: the encoder's input. */
export type MotionSample = {
  /** Capture time in ms (e.g. performance.timeOrigin + performance.now()); 0 ≤ t < 2^44. */
  captureTimeMs: number;
  /** 478*3: x, y normalised to the image [0,1], z as MediaPipe gives it (≈ x's scale). */
  landmarks: Float32Array;
  /** 16 values, column-major 4x4 facialTransformationMatrix (not coded: pose is re-estimated). */
  transformMatrix: Float32Array;
  imageWidth: number;
  imageHeight: number;
};

/**
 * Head pose of a decoded frame: landmark (pixels) = scale*imageWidth * rotation * canonical + translation (pixels),
 * where the canonical shape is the basis mean (+ coded expression/identity), centred, RMS radius 1.
 */
export type MotionPose = {
  /** 3x3 row-major proper rotation from the canonical face frame to the image frame (x right, y down, z MediaPipe depth). */
  rotation: Float32Array;
  /** Face centroid, normalised like the landmarks: x/imageWidth, y/imageHeight, z/imageWidth. */
  translation: Float32Array;
  /** RMS radius of the face about its centroid, as a fraction of the image width. */
  scale: number;
};

export type MotionFrame = {
  /** Packet sequence number, 16 bits, wraps (use a wrap-aware comparison). */
  seq: number;
  /** Capture time in ms, at 1/16 ms resolution. */
  captureTimeMs: number;
  /** 478*3 reconstructed landmarks, same space as MotionSample.landmarks. */
  landmarks: Float32Array;
  pose: MotionPose;
  imageWidth: number;
  imageHeight: number;
};

export type MotionPacketError =
  | 'bad_type' // not a Uint8Array
  | 'truncated' // shorter than the header or than the layout the header announces
  | 'oversized' // longer than MAX_MOTION_PACKET_BYTES
  | 'bad_version' // a version this build does not decode
  | 'bad_basis' // coded against a different basis than the decoder holds
  | 'bad_length' // longer than the layout (trailing bytes)
  | 'bad_value'; // a field out of range (image size 0, non-unit quaternion, padding bits set, non-finite result)

export type MotionDecodeResult = { ok: true; frame: MotionFrame } | { ok: false; error: MotionPacketError; message: string };
