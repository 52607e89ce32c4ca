/**
 * Camera motion with the voice's mouth (issue 11's "choose which drives the mouth"; SuperFace's
 * MTM): a MotionSource that is the camera's motion stream in every respect (samples, timing,
 * calibration, hold/idle), plus a `mouth` override the AvatarSession applies after retargeting:
 * the mouth region of the identity's face comes from the participant's microphone (the audio
 * source's VAD-gated model mouth, closed in silence), carried by the camera's head pose.
 *
 * Lip sync for listeners stays the camera's (the face's timing); the voice's mouth trails the
 * voice by its own look-ahead (~112 ms) plus the render path, close to the camera motion's delay.
 */
import type { MotionSource, MotionSourceSample, MouthOverride } from '../avatar/MotionSource';
import type { AudioMotionSource } from './AudioMotionSource';

export class VoiceMouthSource implements MotionSource {
  readonly kind = 'camera+voice';
  readonly mouth: MouthOverride;
  readonly #camera: MotionSource;
  readonly #voice: AudioMotionSource;

  constructor(camera: MotionSource, voice: AudioMotionSource) {
    this.#camera = camera;
    this.#voice = voice;
    // A voice that has ended drives nothing: its last mouth (open, mid-word) must not stay on the face.
    this.mouth = { apply: (landmarks) => (voice.closed ? landmarks : voice.composer.mouthOnto(landmarks, voice.mouthDelta())) };
    // Either ending ends this source: the session then shows idle motion, mouth at rest, until the
    // driver stops or restarts it (nothing tells the driver; the page's mic is only closed on leave).
    voice.once('close', () => this.close());
  }

  latest(): MotionSourceSample | undefined {
    return this.#camera.latest();
  }

  get closed(): boolean {
    return this.#camera.closed;
  }

  on: MotionSource['on'] = (event, listener) => this.#camera.on(event, listener);

  once: MotionSource['once'] = (event, listener) => this.#camera.once(event, listener);

  off: MotionSource['off'] = (event, listener) => this.#camera.off(event, listener);

  /** Idempotent: closes the camera source and the audio tap behind the voice. */
  close(): void {
    this.#voice.close();
    this.#camera.close();
  }
}
