/**
 * Envelope drive of the mouth (the twin of models/avatar_ml/audio/envelope.py; the offline
 * `npm run eval:lipsync` scores the same arithmetic): the voice's loudness envelope sets, with
 * weight w, the inner-lip opening of the model's mouth, whose shape (width, rounding, jaw) stays
 * the model's.
 *
 *   a = gap(delta)                     the head's inner-lip gap (canonical y of 13 minus 14), cm
 *   delta' = delta + ((1 - w) a + w G e - a) D
 *
 * D (R*3, canonical cm per cm of gap) and G (cm) come from the model's training clips (manifest
 * `envelope_drive`). e in [0, 1] is a follower over the RMS of raw 20 ms encoder frames, in dB
 * relative to a running speech level (frames above -60 dBFS, time constant `level_tau_s`), mapped
 * from `lo_db` (closed) to `hi_db` (open), attack/release `attack_ms`/`release_ms`; the stream
 * feeds it the frame `lead_frames` later than the mouth frame (StreamingAudioToMouth's `leadRms`).
 */
import type { AudioToMouthManifest, EnvelopeDrive } from '@shared/audio';

const FRAME_S = 320 / 16000;
const SILENCE_POWER = 1e-6;

/** Streaming loudness envelope: `step(rms)` once per 50 Hz frame, in order -> drive in [0, 1]. */
export class EnvelopeFollower {
  #level2 = 0;
  #haveLevel = false;
  #y = 0;
  readonly #aLevel: number;
  readonly #aAttack: number;
  readonly #aRelease: number;

  constructor(readonly params: Pick<EnvelopeDrive, 'lo_db' | 'hi_db' | 'attack_ms' | 'release_ms' | 'level_tau_s'>) {
    this.#aLevel = 1 - Math.exp(-FRAME_S / params.level_tau_s);
    this.#aAttack = 1 - Math.exp((-FRAME_S * 1000) / params.attack_ms);
    this.#aRelease = 1 - Math.exp((-FRAME_S * 1000) / params.release_ms);
  }

  get value(): number {
    return this.#y;
  }

  step(rms: number): number {
    const p2 = rms * rms;
    if (p2 >= SILENCE_POWER) {
      if (!this.#haveLevel) {
        this.#level2 = p2;
        this.#haveLevel = true;
      } else {
        this.#level2 += (p2 - this.#level2) * this.#aLevel;
      }
    }
    let x = 0;
    if (this.#haveLevel) {
      const db = 10 * Math.log10(Math.max(p2, 1e-12) / this.#level2);
      x = Math.min(1, Math.max(0, (db - this.params.lo_db) / (this.params.hi_db - this.params.lo_db)));
    }
    this.#y += (x - this.#y) * (x > this.#y ? this.#aAttack : this.#aRelease);
    return this.#y;
  }
}

/** The model's mouth with its opening mixed with the envelope's (one per stream). */
export class MouthEnvelope {
  readonly drive: EnvelopeDrive;
  readonly follower: EnvelopeFollower;
  readonly #direction: Float32Array;
  readonly #up: number;
  readonly #lo: number;

  /** @throws if the model has no `envelope_drive` or it does not fit the manifest's mouth region */
  constructor(manifest: Pick<AudioToMouthManifest, 'mouth_region'>, drive: EnvelopeDrive) {
    const r = manifest.mouth_region.length;
    if (drive.open_direction.length !== r * 3) throw new Error(`envelope_drive.open_direction must have ${r * 3} numbers`);
    this.#up = manifest.mouth_region.indexOf(13);
    this.#lo = manifest.mouth_region.indexOf(14);
    if (this.#up < 0 || this.#lo < 0) throw new Error('the mouth region lacks the inner-lip points 13/14');
    this.drive = drive;
    this.#direction = Float32Array.from(drive.open_direction);
    this.follower = new EnvelopeFollower(drive);
  }

  /** Steps the follower with `leadRms` (the raw RMS of the frame `lead_frames` later) and mixes; returns a new array. */
  apply(delta: Float32Array, leadRms: number): Float32Array {
    const e = this.follower.step(leadRms);
    return MouthEnvelope.mix(delta, e, this.#direction, this.drive.full_gap_cm, this.drive.weight, this.#up, this.#lo);
  }

  /** delta (R*3) + drive e -> delta with the inner-lip opening mixed (see the file's doc). */
  static mix(delta: Float32Array, e: number, direction: Float32Array, fullGapCm: number, weight: number,
    up: number, lo: number): Float32Array {
    const a = delta[3 * up + 1]! - delta[3 * lo + 1]!;
    const shift = (1 - weight) * a + weight * fullGapCm * e - a;
    const out = new Float32Array(delta.length);
    for (let i = 0; i < delta.length; i++) out[i] = delta[i]! + shift * direction[i]!;
    return out;
  }
}
