/**
 * The output clock of one avatar: ticks at a fixed rate on absolute deadlines (no drift), never
 * bunches up after a stall (missed ticks are skipped and counted as late, not replayed), and can
 * shift its phase a little (`nudge`) so ticks fall just after motion arrives — the rate stays
 * fixed, only the wait between "motion available" and "rendered" shrinks.
 */
export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: PacerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PacerTick {
  /** The tick's deadline (ms, on the clock). */
  dueMs: number;
  /** How late the callback ran (ms). */
  lateMs: number;
  /** Ticks skipped since the previous one (the loop was stalled). */
  skipped: number;
  index: number;
}

export class Pacer {
  readonly periodMs: number;
  readonly #clock: PacerClock;
  readonly #onTick: (tick: PacerTick) => void;
  #nextDueMs: number;
  #handle: unknown;
  #running = false;
  #index = 0;
  /** Ticks skipped because the loop ran more than a period late. */
  skippedTicks = 0;

  constructor(options: { fps: number; onTick: (tick: PacerTick) => void; clock?: PacerClock }) {
    this.periodMs = 1000 / options.fps;
    this.#clock = options.clock ?? realClock;
    this.#onTick = options.onTick;
    this.#nextDueMs = this.#clock.now();
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#nextDueMs = this.#clock.now() + this.periodMs;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  /** Moves the following deadlines by `ms` (negative = earlier), at most a quarter period at once. */
  nudge(ms: number): void {
    const limit = this.periodMs / 4;
    this.#nextDueMs += Math.max(-limit, Math.min(limit, ms));
    if (this.#running) {
      this.#clock.clearTimeout(this.#handle);
      this.#schedule();
    }
  }

  #schedule(): void {
    const delay = Math.max(0, this.#nextDueMs - this.#clock.now());
    this.#handle = this.#clock.setTimeout(() => this.#fire(), delay);
    (this.#handle as { unref?: () => void })?.unref?.();
  }

  #fire(): void {
    if (!this.#running) return;
    const now = this.#clock.now();
    let skipped = 0;
    // A stall longer than a period: skip the missed deadlines instead of firing them in a burst.
    while (now - this.#nextDueMs >= this.periodMs) {
      this.#nextDueMs += this.periodMs;
      skipped += 1;
    }
    this.skippedTicks += skipped;
    const dueMs = this.#nextDueMs;
    this.#nextDueMs += this.periodMs;
    this.#index += 1;
    this.#schedule();
    this.#onTick({ dueMs, lateMs: now - dueMs, skipped, index: this.#index });
  }
}
