/**
 * MotionSource over a peer's MotionStream (the camera motion uplink): each played frame becomes
 * the newest sample, in the driver's image space, timed by its capture time on the server clock.
 */
import type { MotionStream, PlayedMotionFrame } from '../motion/MotionStream';
import type { DecodedMotionFrame } from '../motion/motionTypes';
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionSourceSample, MotionSource, MotionSourceEvents } from './MotionSource';

export class MotionStreamSource extends TypedEmitter<MotionSourceEvents> implements MotionSource {
  readonly kind = 'camera';
  readonly #stream: MotionStream<DecodedMotionFrame>;
  #latest: MotionSourceSample | undefined;
  #seq = 0;
  #closed = false;
  readonly #onFrame = (played: PlayedMotionFrame<DecodedMotionFrame>): void => this.#push(played);
  readonly #onStreamClose = (): void => this.close();

  constructor(stream: MotionStream<DecodedMotionFrame>) {
    super();
    this.#stream = stream;
    stream.on('frame', this.#onFrame);
    stream.once('close', this.#onStreamClose);
    const current = stream.latest();
    if (current) this.#push(current);
    if (stream.closed) queueMicrotask(() => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  latest(): MotionSourceSample | undefined {
    return this.#latest;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.off('frame', this.#onFrame);
    this.#stream.off('close', this.#onStreamClose);
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #push(played: PlayedMotionFrame<DecodedMotionFrame>): void {
    this.#seq += 1;
    const { frame } = played;
    this.#latest = {
      landmarks: frame.landmarks,
      imageWidth: frame.imageWidth,
      imageHeight: frame.imageHeight,
      captureTimeMs: played.localCaptureMs,
      seq: this.#seq,
      space: 'driver',
    };
    this.safeEmit('sample', this.#latest);
  }
}
