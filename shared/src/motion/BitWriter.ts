/** Packs unsigned integers LSB-first into bytes (the order BitReader reads them). */
export class BitWriter {
  readonly #bytes: Uint8Array;
  #bitPos = 0;

  constructor(bytes: Uint8Array, startByte: number) {
    this.#bytes = bytes;
    this.#bitPos = startByte * 8;
  }

  /** Writes the low `bits` bits of `value` (0 ≤ bits ≤ 24). */
  write(value: number, bits: number): void {
    for (let i = 0; i < bits; i++) {
      if ((value >>> i) & 1) this.#bytes[this.#bitPos >>> 3]! |= 1 << (this.#bitPos & 7);
      this.#bitPos++;
    }
  }
}
