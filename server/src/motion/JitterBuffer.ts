/**
 * A playout buffer ordered by capture time.
 *
 * Each frame is held until `localCaptureMs + targetDelayMs` (its capture time on the server's
 * clock plus the configured delay), which absorbs network jitter and reordering; then it is
 * played out in capture order. A frame that arrives after a later-captured frame has already
 * been played is late: playing it would move the face backwards in time, so it is refused.
 */
export interface JitterBufferOptions {
  targetDelayMs: number;
  /** Most frames held at once; more are refused as 'overflow'. */
  capacity: number;
}

export interface BufferedFrame<F> {
  frame: F;
  /** Capture time mapped onto the server's clock (see CaptureClock). */
  localCaptureMs: number;
  arrivalMs: number;
}

export type JitterBufferVerdict = 'ok' | 'late' | 'overflow';

export class JitterBuffer<F> {
  readonly #targetDelayMs: number;
  readonly #capacity: number;
  /** Sorted by localCaptureMs, oldest first. */
  readonly #frames: BufferedFrame<F>[] = [];
  #lastPlayedLocalCaptureMs = Number.NEGATIVE_INFINITY;

  constructor({ targetDelayMs, capacity }: JitterBufferOptions) {
    this.#targetDelayMs = targetDelayMs;
    this.#capacity = capacity;
  }

  get targetDelayMs(): number {
    return this.#targetDelayMs;
  }

  get size(): number {
    return this.#frames.length;
  }

  insert(entry: BufferedFrame<F>): JitterBufferVerdict {
    if (entry.localCaptureMs <= this.#lastPlayedLocalCaptureMs) return 'late';
    if (this.#frames.length >= this.#capacity) return 'overflow';
    // Binary search for the first frame captured later than this one.
    let lo = 0;
    let hi = this.#frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#frames[mid] as BufferedFrame<F>).localCaptureMs <= entry.localCaptureMs) lo = mid + 1;
      else hi = mid;
    }
    this.#frames.splice(lo, 0, entry);
    return 'ok';
  }

  /** When the oldest held frame falls due, on the server's clock; undefined when empty. */
  nextDueMs(): number | undefined {
    const first = this.#frames[0];
    return first === undefined ? undefined : first.localCaptureMs + this.#targetDelayMs;
  }

  /** Removes and returns every frame due at `nowMs`, in capture order. */
  popDue(nowMs: number): BufferedFrame<F>[] {
    let count = 0;
    while (count < this.#frames.length) {
      const entry = this.#frames[count] as BufferedFrame<F>;
      if (entry.localCaptureMs + this.#targetDelayMs > nowMs) break;
      count += 1;
    }
    if (count === 0) return [];
    const due = this.#frames.splice(0, count);
    this.#lastPlayedLocalCaptureMs = (due[due.length - 1] as BufferedFrame<F>).localCaptureMs;
    return due;
  }

  /** Forgets held frames and the playout position (after the capture clock re-anchors). */
  reset(): number {
    const dropped = this.#frames.length;
    this.#frames.length = 0;
    this.#lastPlayedLocalCaptureMs = Number.NEGATIVE_INFINITY;
    return dropped;
  }
}
