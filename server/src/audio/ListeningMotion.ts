/**
 * Idle and listening motion for a face driven by sound: blinks, slow head sway, small gaze
 * saccades, and nods that follow speech energy. Deterministic for a seed and a sequence of times.
 *
 * - Blinks: intervals of 1.2 s + an exponential with mean 2.3 s (mean 3.5 s, 17 a minute),
 *   10% of them doubled; each closes in 80-110 ms, stays shut 20-60 ms and opens in 140-220 ms
 *   (a 240-390 ms blink, the range measured for spontaneous blinks).
 * - Sway: three slow sinusoids per axis (0.04-0.3 Hz, random phases): about ±2° yaw, ±1.5° pitch,
 *   ±1° roll; 1.5x livelier while speaking.
 * - Saccades: every 0.6-2.8 s the gaze jumps (40 ms) to a new point within ±0.12 (x) / ±0.06 (y) of
 *   the eye width, drifting back towards the centre half of the time.
 * - Nods: pitch follows the speech energy's rise over its slow average (emphasis), up to 3°.
 */
import { seededRandom } from '@shared/seededRandom';

export type IdlePose = {
  /** 0 = eyes open as in the reference, 1 = shut. */
  blink: number;
  /** Gaze offset as a fraction of the eye width (x right, y down in the image). */
  gazeX: number;
  gazeY: number;
  /** Head rotation in radians (image axes: yaw about y, pitch about x (positive = chin down), roll about z). */
  yaw: number;
  pitch: number;
  roll: number;
};

type Blink = { start: number; close: number; hold: number; open: number };
const DEG = Math.PI / 180;

export class ListeningMotion {
  readonly #rand: () => number;
  readonly #sway: { amp: number; freq: number; phase: number }[][];
  #nextBlinkAt: number;
  #blinks: Blink[] = [];
  #gaze = { x: 0, y: 0, fromX: 0, fromY: 0, toX: 0, toY: 0, start: -1e9 };
  #nextSaccadeAt: number;
  #lastT: number | undefined;
  #energySlow = 0;
  #energyFast = 0;
  #nod = 0;
  #speakingMix = 0;
  /** Blinks scheduled so far (begun, or the second of a double blink about to begin). */
  #blinksScheduled = 0;

  constructor(seed = 1, startMs = 0) {
    this.#rand = seededRandom(seed);
    const axis = (amp: number) => [0.04, 0.11, 0.27].map((f, i) => ({
      amp: amp * [0.6, 0.3, 0.1][i]!,
      freq: f * (0.8 + 0.4 * this.#rand()),
      phase: 2 * Math.PI * this.#rand(),
    }));
    this.#sway = [axis(2 * DEG), axis(1.5 * DEG), axis(1 * DEG)];
    this.#nextBlinkAt = startMs + 300 + this.#rand() * 2500;
    this.#nextSaccadeAt = startMs + 600 + this.#rand() * 2000;
  }

  /**
   * The pose at time `tMs` (monotonic, non-decreasing between calls). `speechEnergy` is the
   * current speech loudness in [0,1] (0 in silence), `speaking` the VAD's decision.
   */
  sample(tMs: number, speechEnergy: number, speaking: boolean): IdlePose {
    const dt = this.#lastT === undefined ? 0 : Math.max(0, tMs - this.#lastT);
    this.#lastT = tMs;
    this.#scheduleBlinks(tMs);
    this.#scheduleSaccades(tMs);

    // speech-driven nods: fast envelope over slow envelope, smoothed
    const a = (tauMs: number) => (dt > 0 ? 1 - Math.exp(-dt / tauMs) : 0);
    const e = speaking ? Math.max(0, Math.min(1, speechEnergy)) : 0;
    this.#energyFast += (e - this.#energyFast) * a(60);
    this.#energySlow += (e - this.#energySlow) * a(900);
    const emphasis = Math.max(0, this.#energyFast - this.#energySlow);
    this.#nod += (Math.min(1, emphasis * 3) * 3 * DEG - this.#nod) * a(120);
    this.#speakingMix += ((speaking ? 1 : 0) - this.#speakingMix) * a(500);

    const t = tMs / 1000;
    const liveliness = 1 + 0.5 * this.#speakingMix;
    const swing = (k: number) => liveliness * this.#sway[k]!.reduce(
      (s, c) => s + c.amp * Math.sin(2 * Math.PI * c.freq * t + c.phase), 0);

    // gaze: a 40 ms jump between fixation points (smoothstep)
    const g = this.#gaze;
    const u = Math.min(1, Math.max(0, (tMs - g.start) / 40));
    const w = u * u * (3 - 2 * u);
    g.x = g.fromX + (g.toX - g.fromX) * w;
    g.y = g.fromY + (g.toY - g.fromY) * w;

    return { blink: this.#blinkAmount(tMs), gazeX: g.x, gazeY: g.y, yaw: swing(0), pitch: swing(1) + this.#nod,
      roll: swing(2) };
  }

  /**
   * Blinks begun by `tMs` (at most the time of the last `sample`). A count, not a log: a voice
   * avatar runs for hours, and its stats are read every second.
   */
  blinksStarted(tMs: number): number {
    return this.#blinksScheduled - this.#blinks.filter((b) => b.start > tMs).length;
  }

  #scheduleBlinks(tMs: number): void {
    while (tMs >= this.#nextBlinkAt) {
      const start = this.#nextBlinkAt;
      const make = (s: number): Blink => ({ start: s, close: 80 + 30 * this.#rand(), hold: 20 + 40 * this.#rand(),
        open: 140 + 80 * this.#rand() });
      const b = make(start);
      this.#blinks.push(b);
      this.#blinksScheduled += 1;
      let end = start + b.close + b.hold + b.open;
      if (this.#rand() < 0.1) {
        const second = make(end + 60);
        this.#blinks.push(second);
        this.#blinksScheduled += 1;
        end = second.start + second.close + second.hold + second.open;
      }
      this.#nextBlinkAt = end + 1200 - 2300 * Math.log(1 - this.#rand() * 0.999);
    }
    this.#blinks = this.#blinks.filter((b) => b.start + b.close + b.hold + b.open > tMs - 1);
  }

  #blinkAmount(tMs: number): number {
    let v = 0;
    for (const b of this.#blinks) {
      const x = tMs - b.start;
      if (x < 0) continue;
      let amt: number;
      if (x < b.close) amt = x / b.close;
      else if (x < b.close + b.hold) amt = 1;
      else amt = Math.max(0, 1 - (x - b.close - b.hold) / b.open);
      v = Math.max(v, amt * amt * (3 - 2 * amt));
    }
    return v;
  }

  #scheduleSaccades(tMs: number): void {
    while (tMs >= this.#nextSaccadeAt) {
      const g = this.#gaze;
      g.fromX = g.x;
      g.fromY = g.y;
      const home = this.#rand() < 0.5;
      g.toX = home ? g.x * 0.3 : (this.#rand() * 2 - 1) * 0.12;
      g.toY = home ? g.y * 0.3 : (this.#rand() * 2 - 1) * 0.06;
      g.start = this.#nextSaccadeAt;
      this.#nextSaccadeAt += 600 + this.#rand() * 2200;
    }
  }
}
