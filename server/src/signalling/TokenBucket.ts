/** Token bucket: `ratePerSecond` sustained, bursts up to `capacity`. Time is injectable for tests. */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(ratePerSecond: number, capacity: number, now: () => number = () => performance.now()) {
    this.#rate = ratePerSecond;
    this.#capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token is available (0 if one is). */
  get msUntilNextToken(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) / this.#rate) * 1000;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }
}
