/**
 * Loss accounting for a stream of wrapping sequence numbers, after RFC 3550 appendix A.1:
 * sequence numbers are extended past their wrap, `expected = highest - first + 1` and
 * `lost = expected - received`. Reordered packets are fine; a jump of more than `maxDropout`
 * is refused unless the next packet confirms it (the sender restarted), so one forged packet
 * cannot make the stream look as if it lost thousands of frames.
 */
export interface SequenceTrackerOptions {
  /** Sequence numbers wrap at this value (2^16 for a uint16 field). */
  modulus: number;
  /** Largest forward or backward distance still taken as the same stream. */
  maxDropout: number;
  /** How many recent sequence numbers are remembered to spot duplicates. */
  duplicateWindow: number;
}

export type SequenceVerdict = 'ok' | 'duplicate' | 'seq_jump';

export class SequenceTracker {
  readonly #modulus: number;
  readonly #maxDropout: number;
  readonly #duplicateWindow: number;
  #base: number | undefined;
  #highest = 0;
  #received = 0;
  /** Extended sequence numbers seen recently, for duplicate detection. */
  readonly #recent = new Set<number>();
  readonly #recentOrder: number[] = [];
  /** After a refused jump: the raw sequence number that would confirm a restart. */
  #restartCandidate: number | undefined;
  /** Loss counted before the last restart, so totals only grow. */
  #lostBeforeRestart = 0;

  constructor({ modulus, maxDropout, duplicateWindow }: SequenceTrackerOptions) {
    this.#modulus = modulus;
    this.#maxDropout = Math.min(maxDropout, Math.floor(modulus / 2) - 1);
    this.#duplicateWindow = duplicateWindow;
  }

  /** Accounts for one arriving packet; only 'ok' packets count as received. */
  accept(seq: number): SequenceVerdict {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.#modulus) return 'seq_jump';
    if (this.#base === undefined) {
      this.#restart(seq);
      return 'ok';
    }
    const extended = this.#extend(seq);
    if (Math.abs(extended - this.#highest) > this.#maxDropout) {
      if (this.#restartCandidate === seq) {
        this.#restart(seq);
        return 'ok';
      }
      this.#restartCandidate = (seq + 1) % this.#modulus;
      return 'seq_jump';
    }
    this.#restartCandidate = undefined;
    if (this.#recent.has(extended)) return 'duplicate';
    this.#remember(extended);
    if (extended > this.#highest) this.#highest = extended;
    // A packet from before the first one we saw moves the start back (it was reordered).
    if (extended < this.#base) this.#base = extended;
    this.#received += 1;
    return 'ok';
  }

  /** Packets expected from the sequence numbers seen so far. */
  get expected(): number {
    return this.#base === undefined ? 0 : this.#highest - this.#base + 1;
  }

  get received(): number {
    return this.#received;
  }

  /** Never negative: duplicates are refused, so received ≤ expected. */
  get lost(): number {
    return Math.max(0, this.expected - this.#received);
  }

  /** Loss counted before a restart as well, so the total only grows. */
  get lostTotal(): number {
    return this.#lostBeforeRestart + this.lost;
  }

  #restart(seq: number): void {
    this.#lostBeforeRestart += this.lost;
    this.#received = 1;
    this.#base = seq;
    this.#highest = seq;
    this.#restartCandidate = undefined;
    this.#recent.clear();
    this.#recentOrder.length = 0;
    this.#remember(seq);
  }

  #extend(seq: number): number {
    const m = this.#modulus;
    const highestRaw = ((this.#highest % m) + m) % m;
    // Signed distance in [-m/2, m/2) from the highest sequence number seen.
    const delta = ((seq - highestRaw + m + m / 2) % m) - m / 2;
    return this.#highest + delta;
  }

  #remember(extended: number): void {
    this.#recent.add(extended);
    this.#recentOrder.push(extended);
    if (this.#recentOrder.length > this.#duplicateWindow) {
      this.#recent.delete(this.#recentOrder.shift() as number);
    }
  }
}
