/**
 * Maps the sender's capture timestamps onto the server's clock.
 *
 * Browser and server clocks are unrelated, so the mapping is anchored on transit times:
 * `offset` is the smallest `arrival - capture` seen (the fastest packet), and a frame captured
 * at `c` is taken to have existed on the server at `c + offset`. Against that anchor a packet
 * whose transit is far *below* the fastest one claims a capture time from the future, and one
 * whose transit is far above it is too old to be useful. A stream whose every packet disagrees
 * with the anchor for `resyncAfter` packets in a row re-anchors (the sender's clock jumped, or a
 * forged packet set the anchor), so one bad packet cannot silence a peer for good.
 */
export interface CaptureClockOptions {
  /** How far below the fastest transit seen a packet may be before it is "from the future". */
  maxFutureMs: number;
  /** Packets whose transit exceeds the fastest one by more than this are stale. */
  maxAgeMs: number;
  /** Consecutive refused packets after which the clock re-anchors on the latest one. */
  resyncAfter: number;
}

export type CaptureClockVerdict = 'ok' | 'future' | 'stale';

export class CaptureClock {
  readonly #options: CaptureClockOptions;
  #offsetMs: number | undefined;
  #refusedInARow = 0;
  #resyncs = 0;

  constructor(options: CaptureClockOptions) {
    this.#options = options;
  }

  /** Judges one packet; an 'ok' packet may tighten the anchor. */
  observe(captureTimeMs: number, arrivalMs: number): CaptureClockVerdict {
    if (!Number.isFinite(captureTimeMs) || !Number.isFinite(arrivalMs)) return 'stale';
    const transit = arrivalMs - captureTimeMs;
    if (this.#offsetMs === undefined) {
      this.#offsetMs = transit;
      return 'ok';
    }
    const verdict: CaptureClockVerdict =
      transit < this.#offsetMs - this.#options.maxFutureMs
        ? 'future'
        : transit > this.#offsetMs + this.#options.maxAgeMs
          ? 'stale'
          : 'ok';
    if (verdict === 'ok') {
      this.#refusedInARow = 0;
      if (transit < this.#offsetMs) this.#offsetMs = transit;
      return 'ok';
    }
    this.#refusedInARow += 1;
    if (this.#refusedInARow >= this.#options.resyncAfter) {
      this.#offsetMs = transit;
      this.#refusedInARow = 0;
      this.#resyncs += 1;
    }
    return verdict;
  }

  /** The capture time on the server's clock; undefined before the first packet. */
  toLocalMs(captureTimeMs: number): number | undefined {
    return this.#offsetMs === undefined ? undefined : captureTimeMs + this.#offsetMs;
  }

  /** How many times the anchor was reset; the caller flushes its buffer when this changes. */
  get resyncs(): number {
    return this.#resyncs;
  }
}
