/** Reads unsigned integers LSB-first; the caller has checked the length, so reads stay in bounds. */
export class BitReader {
  readonly #bytes: Uint8Array;
  #bitPos: number;

  constructor(bytes: Uint8Array, startByte: number) {
    this.#bytes = bytes;
    this.#bitPos = startByte * 8;
  }

  get bitPosition(): number {
    return this.#bitPos;
  }

  /** Reads `bits` bits (0 ≤ bits ≤ 24) as an unsigned integer. */
  read(bits: number): number {
    let value = 0;
    for (let i = 0; i < bits; i++) {
      value |= ((this.#bytes[this.#bitPos >>> 3]! >>> (this.#bitPos & 7)) & 1) << i;
      this.#bitPos++;
    }
    return value >>> 0;
  }
}
