/**
 * A MotionSource that replays recorded landmark frames (e.g. a models/motion_library track) at
 * a fixed rate, looping: for tests, benchmarks and demos without a camera. `pause()` stops the
 * motion as a dropped network or a background tab would; `resume()` continues.
 */
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionSource, MotionSourceEvents, MotionSourceSample } from './MotionSource';

export interface ReplayMotionSourceOptions {
  /** 478*3 landmark sets, normalised to a width×height image. */
  frames: readonly Float32Array[];
  width: number;
  height: number;
  fps: number;
  /** Start at this frame (default 0). */
  offset?: number;
  /** Simulated capture-to-available delay (ms), as the jitter buffer adds (default 60). */
  delayMs?: number;
}

export class ReplayMotionSource extends TypedEmitter<MotionSourceEvents> implements MotionSource {
  readonly kind = 'replay';
  readonly #options: ReplayMotionSourceOptions;
  #timer: NodeJS.Timeout | undefined;
  #nextDueMs = 0;
  #index: number;
  #seq = 0;
  #latest: MotionSourceSample | undefined;
  #closed = false;
  /** Samples produced so far. */
  produced = 0;

  constructor(options: ReplayMotionSourceOptions) {
    super();
    if (options.frames.length === 0) throw new RangeError('ReplayMotionSource needs at least one frame');
    this.#options = options;
    this.#index = options.offset ?? 0;
    this.resume();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get paused(): boolean {
    return this.#timer === undefined;
  }

  latest(): MotionSourceSample | undefined {
    return this.#latest;
  }

  pause(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  resume(): void {
    if (this.#closed || this.#timer) return;
    this.#nextDueMs = performance.now();
    this.#step();
  }

  /** Emits on absolute deadlines (a camera's clock does not drift with event-loop delays). */
  #step(): void {
    this.#emit();
    const period = 1000 / this.#options.fps;
    this.#nextDueMs += period;
    const now = performance.now();
    while (this.#nextDueMs < now) this.#nextDueMs += period; // skip what a stall missed
    this.#timer = setTimeout(() => this.#step(), this.#nextDueMs - now);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pause();
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #emit(): void {
    const { frames, width, height, delayMs = 60 } = this.#options;
    const now = performance.now();
    this.#seq += 1;
    this.produced += 1;
    this.#latest = {
      landmarks: frames[this.#index % frames.length] as Float32Array,
      imageWidth: width,
      imageHeight: height,
      captureTimeMs: now - delayMs,
      availableAtMs: now,
      originCaptureTimeMs: Date.now() - delayMs,
      seq: this.#seq,
      space: 'driver',
    };
    this.#index += 1;
    this.safeEmit('sample', this.#latest);
  }
}
