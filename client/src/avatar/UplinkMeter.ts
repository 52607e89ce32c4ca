/** Sent bytes → kbit/s over a sliding window (the "live uplink kbps" on the page). */
export class UplinkMeter {
  readonly #windowMs: number;
  /** (time, bytes) of recent sends, oldest first; pruned to the window on every call. */
  readonly #sends: { atMs: number; bytes: number }[] = [];
  #bytesInWindow = 0;
  #totalBytes = 0;
  #totalPackets = 0;

  constructor(windowMs = 2000) {
    this.#windowMs = windowMs;
  }

  add(bytes: number, nowMs = performance.now()): void {
    this.#sends.push({ atMs: nowMs, bytes });
    this.#bytesInWindow += bytes;
    this.#totalBytes += bytes;
    this.#totalPackets += 1;
    this.#prune(nowMs);
  }

  kbps(nowMs = performance.now()): number {
    this.#prune(nowMs);
    return (this.#bytesInWindow * 8) / this.#windowMs;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get totalPackets(): number {
    return this.#totalPackets;
  }

  #prune(nowMs: number): void {
    while (this.#sends.length > 0 && (this.#sends[0] as { atMs: number }).atMs <= nowMs - this.#windowMs) {
      this.#bytesInWindow -= (this.#sends.shift() as { bytes: number }).bytes;
    }
  }
}
