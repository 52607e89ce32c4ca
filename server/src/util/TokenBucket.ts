/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`.
 * Time is passed in (milliseconds on any monotonic clock) so that tests are deterministic and
 * the caller decides which clock counts.
 */
export interface TokenBucketOptions {
  ratePerSecond: number;
  capacity: number;
}

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  #tokens: number;
  #lastMs: number | undefined;

  constructor({ ratePerSecond, capacity }: TokenBucketOptions) {
    if (!(ratePerSecond > 0) || !(capacity >= 1)) {
      throw new RangeError(`token bucket needs ratePerSecond > 0 and capacity >= 1 (got ${ratePerSecond}, ${capacity})`);
    }
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
  }

  /** Takes one token if there is one; false means the caller is over its rate. */
  tryTake(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds from `nowMs` until the next token is available (0 if one is). */
  msUntilNextToken(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#ratePerMs;
  }

  /** Milliseconds from `nowMs` until the bucket is full again (0 if it is). */
  msUntilFull(nowMs: number): number {
    this.#refill(nowMs);
    return (this.#capacity - this.#tokens) / this.#ratePerMs;
  }

  #refill(nowMs: number): void {
    if (this.#lastMs !== undefined && nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (nowMs - this.#lastMs) * this.#ratePerMs);
    }
    // A clock that goes backwards refills nothing rather than draining the bucket.
    if (this.#lastMs === undefined || nowMs > this.#lastMs) this.#lastMs = nowMs;
  }
}
