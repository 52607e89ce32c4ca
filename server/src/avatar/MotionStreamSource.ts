/**
 * MotionSource over a peer's camera motion uplink: it follows the peer's MotionStream in the
 * MotionService (the stream opens on the first motion packet, and a new data channel replaces
 * it), and each played frame becomes the newest sample — in the driver's image space, timed by
 * its capture time on the server clock. A stream that closes leaves the source waiting (the
 * session shows idle motion); only `close()` ends the source.
 */
import type { MotionService } from '../motion/MotionService';
import type { MotionStream, PlayedMotionFrame } from '../motion/MotionStream';
import type { DecodedMotionFrame } from '../motion/motionTypes';
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionSource, MotionSourceEvents, MotionSourceSample } from './MotionSource';

type AnyStream = MotionStream<DecodedMotionFrame>;

export class MotionStreamSource extends TypedEmitter<MotionSourceEvents> implements MotionSource {
  readonly kind = 'camera';
  readonly #motion: MotionService<DecodedMotionFrame>;
  readonly #roomId: string;
  readonly #peerId: string;
  #stream: AnyStream | undefined;
  #latest: MotionSourceSample | undefined;
  #seq = 0;
  #closed = false;
  readonly #onFrame = (played: PlayedMotionFrame<DecodedMotionFrame>): void => this.#push(played);
  readonly #onStreamClose = (): void => this.#detach();
  readonly #onStreamOpened = (stream: AnyStream, where: { room: { id: string }; peer: { id: string } }): void => {
    if (where.room.id === this.#roomId && where.peer.id === this.#peerId) this.#attach(stream);
  };

  constructor(motion: MotionService<DecodedMotionFrame>, roomId: string, peerId: string) {
    super();
    this.#motion = motion;
    this.#roomId = roomId;
    this.#peerId = peerId;
    motion.on('streamopened', this.#onStreamOpened);
    const current = motion.stream(roomId, peerId);
    if (current) this.#attach(current);
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
    this.#motion.off('streamopened', this.#onStreamOpened);
    this.#detach();
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #attach(stream: AnyStream): void {
    this.#detach();
    if (stream.closed) return;
    this.#stream = stream;
    stream.on('frame', this.#onFrame);
    stream.once('close', this.#onStreamClose);
    const current = stream.latest();
    if (current) this.#push(current);
  }

  #detach(): void {
    this.#stream?.off('frame', this.#onFrame);
    this.#stream?.off('close', this.#onStreamClose);
    this.#stream = undefined;
  }

  #push(played: PlayedMotionFrame<DecodedMotionFrame>): void {
    this.#seq += 1;
    const { frame } = played;
    this.#latest = {
      landmarks: frame.landmarks,
      imageWidth: frame.imageWidth,
      imageHeight: frame.imageHeight,
      captureTimeMs: played.localCaptureMs,
      availableAtMs: played.playedAtMs,
      originCaptureTimeMs: frame.captureTimeMs,
      seq: this.#seq,
      space: 'driver',
    };
    this.safeEmit('sample', this.#latest);
  }
}
