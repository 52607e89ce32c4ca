/**
 * A rate over a sliding window, in fixed buckets so memory stays constant: `add` an amount (bytes
 * for `kbps`, or any count, e.g. frames, for `perSecond`) at a time in ms.
 */
export class RateWindow {
  readonly #bucketMs: number;
  readonly #buckets: Float64Array;
  readonly #bucketIndex: Float64Array;

  constructor(windowMs = 2000, buckets = 20) {
    this.#bucketMs = windowMs / buckets;
    this.#buckets = new Float64Array(buckets);
    this.#bucketIndex = new Float64Array(buckets).fill(-1);
  }

  add(nowMs: number, bytes: number): void {
    const index = Math.floor(nowMs / this.#bucketMs);
    const slot = index % this.#buckets.length;
    if (this.#bucketIndex[slot] !== index) {
      this.#bucketIndex[slot] = index;
      this.#buckets[slot] = 0;
    }
    this.#buckets[slot] = (this.#buckets[slot] as number) + bytes;
  }

  /** Kilobits per second over the window ending at `nowMs` (the current bucket excluded), the amounts being bytes. */
  kbps(nowMs: number): number {
    return (this.perSecond(nowMs) * 8) / 1000;
  }

  /** The amount added per second over the window ending at `nowMs` (the current bucket excluded). */
  perSecond(nowMs: number): number {
    const current = Math.floor(nowMs / this.#bucketMs);
    let amount = 0;
    for (let slot = 0; slot < this.#buckets.length; slot += 1) {
      const index = this.#bucketIndex[slot] as number;
      if (index < current && index >= current - this.#buckets.length + 1) amount += this.#buckets[slot] as number;
    }
    const spanMs = (this.#buckets.length - 1) * this.#bucketMs;
    return (amount * 1000) / spanMs;
  }
}
