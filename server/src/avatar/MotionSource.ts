/**
 * What an AvatarSession renders from: the newest face landmarks of one driver, with their
 * capture time. The session polls `latest()` once per output tick (it never queues), so a source
 * only has to keep its newest sample.
 *
 * Implementations:
 * - `MotionStreamSource` (this folder): the peer's camera motion uplink (server/src/motion's
 *   MotionStream; landmarks in the driver's camera image, retargeted onto the identity).
 * - `AudioMotionSource` (server/src/audio/): motion from the participant's voice, landmarks
 *   already in the identity's reference image (`space: 'identity'`), so the session skips
 *   retargeting for them;
 * - `VoiceMouthSource` (server/src/audio/): the camera's motion with a `mouth` override from the
 *   voice.
 *
 * A source that stops producing (network drop, tab in the background, silence) simply stops
 * advancing `seq`; the session then holds the last pose, eases back to neutral and plays idle
 * motion. `close` tells the session the source is gone for good.
 */
import type { AvatarStats } from '@shared/avatar/avatarProtocol';
import type { TypedEmitter } from '../util/TypedEmitter';

/** Float count of one landmark set: 478 MediaPipe points × (x, y, z). */
export const MOTION_LANDMARK_FLOATS = 478 * 3;

/**
 * Which image the landmarks are normalised to:
 * - 'driver': the driver's camera image (`imageWidth` × `imageHeight`); the session retargets
 *   them onto the identity (pose and expression relative to the driver's calibrated neutral).
 * - 'identity': the identity's reference image (the student's input space); used as is.
 */
export type MotionSpace = 'driver' | 'identity';

export interface MotionSourceSample {
  /**
   * 478*3 float32: MediaPipe FaceLandmarker coordinates, x and y normalised to [0,1] of the
   * image named by `space`, z relative depth in x's scale. Read-only for consumers; a source
   * hands out a new array (or one it never mutates again) per sample.
   */
  readonly landmarks: Float32Array;
  /** Size in pixels of the image the landmarks are normalised to. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** When the motion was captured, on this server's monotonic clock (`performance.now()` ms). */
  readonly captureTimeMs: number;
  /** When the sample became available to renderers (played out of the jitter buffer), same clock. */
  readonly availableAtMs: number;
  /**
   * Capture time on the originating device's clock (the browser's epoch ms for camera motion), for
   * end-to-end latency measurement; undefined for motion made on the server (audio-driven).
   */
  readonly originCaptureTimeMs?: number;
  /** Increases by at least 1 with every new sample of this source; equal `seq` = same sample. */
  readonly seq: number;
  readonly space: MotionSpace;
}

export type MotionSourceEvents = {
  /** A new newest sample (optional to listen to: the session polls `latest()`). */
  sample: [MotionSourceSample];
  /** The source ended (peer left avatar mode, stream closed); it will never produce again. */
  close: [];
};

/**
 * Replaces the mouth of the landmarks the session is about to render (SuperFace's masked local
 * signal: the mouth from one source, the rest from another), e.g. the voice's mouth on the camera's
 * face. `apply` takes and returns 478*3 landmarks normalised to the identity's image.
 */
export interface MouthOverride {
  apply(landmarks: Float32Array): Float32Array;
}

export interface MotionSource extends Pick<TypedEmitter<MotionSourceEvents>, 'on' | 'once' | 'off'> {
  /** Short name for logs and metrics labels, e.g. 'camera' or 'audio'. */
  readonly kind: string;
  /** The newest sample, or undefined before the first. Cheap; called once per output tick. */
  latest(): MotionSourceSample | undefined;
  readonly closed: boolean;
  /** Idempotent. Stops listening to whatever feeds it (does not close that feed); emits `close`. */
  close(): void;
  /**
   * Voice-driven sources only: the voice → mouth figures for the driver's stats panel. A source
   * with this method is timed from the voice itself (`captureTimeMs` = the voice's arrival at the
   * server), so listeners' lip sync uses `avSyncAudioExtraMs` instead of the camera's extra.
   */
  audioToLip?(): NonNullable<AvatarStats['audioToLip']>;
  /** Set when another signal drives the mouth (applied after retargeting, except while calibrating). */
  readonly mouth?: MouthOverride;
  /** Blinks the source's own motion has made so far (a voice-driven source blinks itself); counted into the session's stats. */
  readonly blinks?: number;
}
