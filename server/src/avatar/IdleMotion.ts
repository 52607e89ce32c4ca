/**
 * Natural idle motion for a face with no driver (motion stopped, tab in the background,
 * calibration): blinks at a human rate and a slow, slight head sway. Deterministic for a seed.
 *
 * Blinks: a rate drawn uniformly in `blinksPerMinute` per interval, each interval uniform in
 * [0.6, 1.4] × 60 000 / rate ms (so the mean rate stays in the range); each blink lasts a
 * duration drawn in `blinkDurationMs`, closing in its first 40 % and opening in the rest.
 * Head: per axis, two sines of random phase at 0.05–0.25 Hz; yaw ±1.5°, pitch ±1°, roll ±0.6°.
 */
import { seededRandom } from '@shared/seededRandom';

export interface IdlePose {
  /** Eyelid closure, 0 (open) .. 1 (shut). */
  blink: number;
  /** Head rotation, radians. */
  yaw: number;
  pitch: number;
  roll: number;
}

export interface IdleMotionOptions {
  blinksPerMinute: readonly [number, number];
  blinkDurationMs: readonly [number, number];
  seed?: number;
}

const DEG = Math.PI / 180;

export class IdleMotion {
  readonly #random: () => number;
  readonly #options: IdleMotionOptions;
  readonly #sway: { amplitude: number; terms: { hz: number; phase: number; weight: number }[] }[];
  #nextBlinkMs: number | undefined;
  #blinkStartMs = Number.NEGATIVE_INFINITY;
  #blinkDurationMs = 0;
  /** Blinks started so far (for stats and tests). */
  blinks = 0;

  constructor(options: IdleMotionOptions) {
    this.#options = options;
    this.#random = seededRandom(options.seed ?? 1);
    this.#sway = [1.5 * DEG, 1 * DEG, 0.6 * DEG].map((amplitude) => ({
      amplitude,
      terms: [0, 1].map((i) => ({
        hz: 0.05 + this.#random() * 0.2,
        phase: this.#random() * 2 * Math.PI,
        weight: i === 0 ? 0.7 : 0.3,
      })),
    }));
  }

  /** The idle pose at `nowMs` (call with non-decreasing times). */
  sample(nowMs: number): IdlePose {
    this.#nextBlinkMs ??= nowMs + this.#interval() * this.#random();
    if (nowMs >= this.#nextBlinkMs && nowMs >= this.#blinkStartMs + this.#blinkDurationMs) {
      this.#blinkStartMs = nowMs;
      const [lo, hi] = this.#options.blinkDurationMs;
      this.#blinkDurationMs = lo + this.#random() * (hi - lo);
      this.#nextBlinkMs = nowMs + this.#blinkDurationMs + this.#interval();
      this.blinks += 1;
    }
    const [yaw, pitch, roll] = this.#sway.map(({ amplitude, terms }) =>
      amplitude * terms.reduce((sum, t) => sum + t.weight * Math.sin(2 * Math.PI * t.hz * (nowMs / 1000) + t.phase), 0),
    ) as [number, number, number];
    return { blink: this.#blinkAmount(nowMs), yaw, pitch, roll };
  }

  #interval(): number {
    const [lo, hi] = this.#options.blinksPerMinute;
    const rate = lo + this.#random() * (hi - lo);
    return (0.6 + 0.8 * this.#random()) * (60_000 / rate);
  }

  #blinkAmount(nowMs: number): number {
    const t = (nowMs - this.#blinkStartMs) / this.#blinkDurationMs;
    if (!(t >= 0 && t < 1)) return 0;
    // close over 40 %, open over 60 %, eased
    const x = t < 0.4 ? t / 0.4 : 1 - (t - 0.4) / 0.6;
    return x * x * (3 - 2 * x);
  }
}
