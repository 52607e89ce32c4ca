/**
 * Decides, at each output tick, which face to render: the newest motion retargeted onto the
 * identity, or — when motion is late, lost or stopped — the last pose held, then eased back to
 * neutral, with idle motion (blinks, slight head sway) faded in so the face is never frozen.
 *
 * States, by the age of the newest sample at the tick:
 * - `calibrating`: no driver neutral yet (first ~1 s of a camera source): neutral + idle motion;
 * - `live`:    age ≤ holdAfterMs — the newest sample;
 * - `hold`:    age ≤ easeAfterMs — the last live pose;
 * - `easing`:  age < easeAfterMs + easeMs — last live pose → neutral (smoothstep);
 * - `idle`:    afterwards (or no sample at all) — neutral + idle motion.
 * Idle motion's weight ramps from 0 at holdAfterMs to 1 at idleAfterMs.
 */
import { IdleMotion } from './IdleMotion';
import type { MotionSource, MotionSourceSample } from './MotionSource';
import { NeutralCalibrator } from './NeutralCalibrator';
import { axisAngleQuaternion, cloneDelta, mixDelta, multiplyQuaternions, neutralDelta, type FaceDelta } from './retarget/faceDelta';
import type { MetricFace } from './retarget/faceGeometry';
import type { Retargeter } from './retarget/retarget';

export type FaceMotionState = 'calibrating' | 'live' | 'hold' | 'easing' | 'idle';

export interface FaceMotionTiming {
  calibrationMs: number;
  calibrationMinFrames: number;
  holdAfterMs: number;
  easeAfterMs: number;
  easeMs: number;
  idleAfterMs: number;
  blinksPerMinute: readonly [number, number];
  blinkDurationMs: readonly [number, number];
}

export interface FaceMotionFrame {
  state: FaceMotionState;
  /** The sample rendered (live) or held; undefined in idle / calibration without one. */
  sample: MotionSourceSample | undefined;
  /** Age of the newest sample at the tick (ms), null when there is none. */
  motionAgeMs: number | null;
  /** Calibration progress 0..1. */
  calibration: number;
}

/** Upper / lower eyelid landmark pairs (MediaPipe face mesh), left then right eye. */
const EYELID_PAIRS: readonly (readonly [number, number])[] = [
  [159, 145], [158, 153], [157, 154], [160, 144], [161, 163], [246, 7],
  [386, 374], [385, 380], [384, 381], [387, 373], [388, 390], [466, 249],
];
/** How far each lid travels to close: the upper lid does most of the work. */
const UPPER_SHARE = 0.8;

export class FaceMotionController {
  readonly #source: MotionSource;
  readonly #retargeter: Retargeter;
  readonly #timing: FaceMotionTiming;
  readonly #calibrator: NeutralCalibrator;
  readonly #idle: IdleMotion;
  readonly #neutral = neutralDelta();
  #lastSeq = -1;
  #live: FaceDelta | undefined;
  #liveSample: MotionSourceSample | undefined;
  readonly #out = neutralDelta();
  readonly #landmarks: Float32Array;
  /** Tracked samples that failed to lift (degenerate landmarks); counted, skipped. */
  badSamples = 0;

  /** driverNeutral: the same driver's neutral, calibrated by an earlier avatar: no calibration then. */
  constructor(options: { source: MotionSource; retargeter: Retargeter; timing: FaceMotionTiming; seed?: number; driverNeutral?: MetricFace }) {
    this.#source = options.source;
    this.#retargeter = options.retargeter;
    this.#timing = options.timing;
    this.#calibrator = new NeutralCalibrator({ calibrationMs: options.timing.calibrationMs, minFrames: options.timing.calibrationMinFrames });
    if (options.driverNeutral) {
      this.#calibrator.seed(options.driverNeutral);
      this.#useCalibratedNeutral();
    }
    this.#idle = new IdleMotion({
      blinksPerMinute: options.timing.blinksPerMinute,
      blinkDurationMs: options.timing.blinkDurationMs,
      seed: options.seed ?? 1,
    });
    this.#landmarks = new Float32Array(478 * 3);
  }

  get blinks(): number {
    return this.#idle.blinks;
  }

  get calibrated(): boolean {
    return this.#calibrator.calibrated;
  }

  /** The driver's calibrated (and refined) neutral face; undefined until calibrated. */
  get driverNeutral(): MetricFace | undefined {
    return this.#calibrator.neutral;
  }

  /**
   * The face for the tick at `nowMs`: landmarks (478*3, normalised to the identity's image;
   * the returned array is reused by the next call) and what produced them.
   */
  tick(nowMs: number): { landmarks: Float32Array; frame: FaceMotionFrame } {
    const sample = this.#source.latest();
    if (sample && sample.seq !== this.#lastSeq) {
      this.#lastSeq = sample.seq;
      this.#take(sample, nowMs);
    }
    const t = this.#timing;
    const age = sample ? motionStaleness(sample, nowMs) : null;
    let state: FaceMotionState;
    let delta: FaceDelta;
    if (!this.#live) {
      state = sample?.space === 'driver' && !this.#calibrator.calibrated && age !== null && age <= t.idleAfterMs ? 'calibrating' : 'idle';
      delta = this.#withIdle(this.#neutral, 1, nowMs);
    } else if ((age as number) <= t.holdAfterMs) {
      state = 'live';
      delta = this.#live;
    } else {
      const a = age as number;
      const idleWeight = clamp01((a - t.holdAfterMs) / Math.max(1, t.idleAfterMs - t.holdAfterMs));
      const ease = smoothstep(clamp01((a - t.easeAfterMs) / t.easeMs));
      state = a <= t.easeAfterMs ? 'hold' : ease < 1 ? 'easing' : 'idle';
      delta = this.#withIdle(mixDelta(this.#live, this.#neutral, ease, this.#out), idleWeight, nowMs);
    }
    this.#retargeter.project(delta, this.#landmarks);
    return {
      landmarks: this.#landmarks,
      frame: {
        state,
        sample: state === 'idle' || state === 'calibrating' ? undefined : this.#liveSample,
        motionAgeMs: sample ? nowMs - sample.captureTimeMs : null,
        calibration: this.#calibrator.progress(nowMs),
      },
    };
  }

  #take(sample: MotionSourceSample, nowMs: number): void {
    try {
      if (sample.space === 'identity') {
        this.#live = this.#retargeter.identityDelta(sample.landmarks, this.#live ?? neutralDelta());
        this.#liveSample = sample;
        return;
      }
      const face = this.#retargeter.lift(sample.landmarks, sample.imageWidth, sample.imageHeight);
      if (!Number.isFinite(face.totalScale) || !Number.isFinite(face.pose.linear[0] as number)) {
        this.badSamples += 1;
        return;
      }
      if (this.#calibrator.add(face, nowMs)) this.#useCalibratedNeutral();
      if (!this.#calibrator.calibrated) return;
      this.#live = this.#retargeter.delta(face, this.#live ?? neutralDelta());
      this.#liveSample = sample;
    } catch {
      this.badSamples += 1;
    }
  }

  /** Retargets from the calibrator's neutral (set once calibrated or seeded, then refined in place). */
  #useCalibratedNeutral(): void {
    const neutral = this.#calibrator.neutral;
    if (neutral) this.#retargeter.setDriverNeutral(neutral);
  }

  /** `base` plus idle motion at `weight` (blink on the eyelids, sway on the rotation). */
  #withIdle(base: FaceDelta, weight: number, nowMs: number): FaceDelta {
    const idle = this.#idle.sample(nowMs);
    const out = base === this.#out ? base : cloneDelta(base);
    if (weight <= 0) return out;
    const target = this.#retargeter.target.metric;
    const blink = idle.blink * weight;
    if (blink > 0) {
      for (const [upper, lower] of EYELID_PAIRS) {
        for (let d = 0; d < 2; d += 1) {
          // close the lids in the canonical frame's x/y plane: along the gap between them
          const gap =
            (target[lower * 3 + d] as number) + (out.expression[lower * 3 + d] as number) -
            ((target[upper * 3 + d] as number) + (out.expression[upper * 3 + d] as number));
          out.expression[upper * 3 + d] = (out.expression[upper * 3 + d] as number) + gap * blink * UPPER_SHARE;
          out.expression[lower * 3 + d] = (out.expression[lower * 3 + d] as number) - gap * blink * (1 - UPPER_SHARE);
        }
      }
    }
    const sway = multiplyQuaternions(
      multiplyQuaternions(axisAngleQuaternion(0, 1, 0, idle.yaw * weight), axisAngleQuaternion(1, 0, 0, idle.pitch * weight)),
      axisAngleQuaternion(0, 0, 1, idle.roll * weight),
    );
    out.rotation = multiplyQuaternions(sway, out.rotation);
    return out;
  }
}

/**
 * How late a sample is at `nowMs` (ms), which decides live / hold / easing / idle. Camera motion
 * ('driver' space) is late by its age since capture. Motion made on the server ('identity' space:
 * the voice-driven source) is as old as the voice behind it by design — the model's look-ahead
 * alone is 112 ms, over `holdAfterMs` — so its lateness is how long since the source made it: a
 * source that keeps producing is live, one that stops holds, eases and idles like a lost camera.
 */
export function motionStaleness(sample: MotionSourceSample, nowMs: number): number {
  return nowMs - (sample.space === 'identity' ? sample.availableAtMs : sample.captureTimeMs);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function smoothstep(x: number): number {
  return x * x * (3 - 2 * x);
}
