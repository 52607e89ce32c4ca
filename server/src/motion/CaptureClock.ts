/**
 * Maps the sender's capture timestamps onto the server's clock.
 *
 * Browser and server clocks are unrelated, so the mapping is anchored on transit times:
 * `offset` is the smallest `arrival - capture` seen (the fastest packet), and a frame captured
 * at `c` is taken to have existed on the server at `c + offset`. Against that anchor a packet
 * whose transit is far *below* the fastest one claims a capture time from the future, and one
 * whose transit is far above it is too old to be useful.
 *
 * Two things move the anchor beyond ordinary tightening:
 * - Warm-up: the first packets after (re)anchoring may tighten it by up to `warmupSlackMs`,
 *   because the very first packet is often slow (the tracker's first frame includes its
 *   warm-up, the channel has just opened) and must not make every later packet look "future".
 * - Resync: a run of refused packets whose transits agree with each other (within `maxFutureMs`)
 *   re-anchors the clock on them: the sender's clock jumped, or a forged packet set the anchor.
 *   A "future" run needs `resyncAfter` packets; a "stale" run needs `staleResyncAfter` (longer),
 *   because a short run of stale packets is usually a backlog flushed after a stall, which must
 *   not move the anchor. Only that sender's own stream is affected either way.
 */
export interface CaptureClockOptions {
  /** How far below the fastest transit seen a packet may be before it is "from the future". */
  maxFutureMs: number;
  /** Packets whose transit exceeds the fastest one by more than this are stale. */
  maxAgeMs: number;
  /** Consistent "future" packets in a row after which the clock re-anchors on them. */
  resyncAfter: number;
  /** Consistent "stale" packets in a row after which the clock re-anchors on them. */
  staleResyncAfter: number;
  /** Packets after (re)anchoring during which the anchor may tighten by up to `warmupSlackMs`. */
  warmupPackets: number;
  warmupSlackMs: number;
}

export type CaptureClockVerdict = 'ok' | 'future' | 'stale';

export class CaptureClock {
  readonly #options: CaptureClockOptions;
  #offsetMs: number | undefined;
  #packetsSinceAnchor = 0;
  /** Transits of the refused packets in the current run, all with the same verdict. */
  readonly #refusedTransits: number[] = [];
  #refusedVerdict: CaptureClockVerdict = 'ok';
  #resyncs = 0;

  constructor(options: CaptureClockOptions) {
    this.#options = options;
  }

  /** Judges one packet; an 'ok' packet may tighten the anchor. */
  observe(captureTimeMs: number, arrivalMs: number): CaptureClockVerdict {
    if (!Number.isFinite(captureTimeMs) || !Number.isFinite(arrivalMs)) return 'stale';
    const transit = arrivalMs - captureTimeMs;
    if (this.#offsetMs === undefined) {
      this.#anchor(transit);
      return 'ok';
    }
    const { maxFutureMs, maxAgeMs, warmupPackets, warmupSlackMs } = this.#options;
    const slack = this.#packetsSinceAnchor < warmupPackets ? Math.max(warmupSlackMs, maxFutureMs) : maxFutureMs;
    const verdict: CaptureClockVerdict =
      transit < this.#offsetMs - slack ? 'future' : transit > this.#offsetMs + maxAgeMs ? 'stale' : 'ok';
    if (verdict === 'ok') {
      this.#packetsSinceAnchor += 1;
      this.#refusedTransits.length = 0;
      if (transit < this.#offsetMs) this.#offsetMs = transit;
      return 'ok';
    }
    if (verdict !== this.#refusedVerdict) this.#refusedTransits.length = 0;
    this.#refusedVerdict = verdict;
    const runLength = verdict === 'future' ? this.#options.resyncAfter : this.#options.staleResyncAfter;
    this.#refusedTransits.push(transit);
    if (this.#refusedTransits.length > runLength) this.#refusedTransits.shift();
    if (this.#refusedTransits.length === runLength) {
      const lo = Math.min(...this.#refusedTransits);
      const hi = Math.max(...this.#refusedTransits);
      if (hi - lo <= maxFutureMs) {
        this.#anchor(lo);
        this.#resyncs += 1;
      }
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

  #anchor(transit: number): void {
    this.#offsetMs = transit;
    this.#packetsSinceAnchor = 1;
    this.#refusedTransits.length = 0;
  }
}
