/** The last `capacity` values of a measurement, for medians and percentiles without growth. */
export class RecentValues {
  readonly #values: Float64Array;
  #count = 0;
  #next = 0;

  constructor(capacity = 64) {
    this.#values = new Float64Array(capacity);
  }

  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    this.#count = Math.min(this.#count + 1, this.#values.length);
  }

  /** The q-quantile (0..1, nearest rank) of the kept values, or null when empty. */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const sorted = Array.from(this.#values.subarray(0, this.#count)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  }
}
