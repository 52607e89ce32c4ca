/**
 * A MotionSource (server/src/avatar/MotionSource.ts, the live renderer's seam) driven by a
 * participant's voice: PCM from an AudioTap -> Silero VAD + audio-to-mouth model -> mouth, plus
 * ListeningMotion for eyes and head, composed on the identity's reference landmarks (FaceComposer)
 * and published at `fps` as `space: 'identity'` samples. In silence (VAD off, muted, no packets)
 * the mouth eases to the identity's rest mouth while blinks, sway and saccades go on. When the
 * model carries an `envelope_drive` (manifest), the head's inner-lip opening is mixed with one
 * driven by the voice's loudness envelope (MouthEnvelope) before the gate: the mouth opens and
 * closes at the syllable rate with the voice; the offline eval (`npm run eval:lipsync`) scores
 * the same mix and gate.
 *
 * captureTimeMs is when the voice behind the mouth arrived (the RTP packet carrying the frame's
 * centre), so the session's capture→presentation figures and the listener lip sync cover it.
 */
import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'node:events';
import { FaceComposer } from './FaceComposer';
import { ListeningMotion, type IdlePose } from './ListeningMotion';
import { MouthEnvelope } from './MouthEnvelope';
import type { PcmChunk } from './RtpAudioReceiver';
import { SileroVad, SpeechGate, VAD_FRAME } from './SileroVad';
import { StreamingAudioToMouth, type AudioToMouthModelFiles, type MouthFrame } from './StreamingAudioToMouth';
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionSource, MotionSourceSample } from '../avatar/MotionSource';
import type { Logger } from '../logger';

/** A MotionSourceSample in the identity's image (audio-driven motion is made on the server). */
export type AudioMotionSample = MotionSourceSample & { readonly space: 'identity' };

export type AudioMotionEvents = { sample: [AudioMotionSample]; close: [] };

/** What feeds PCM: an AudioTap, or anything emitting its events. */
export type PcmFeed = Pick<EventEmitter, 'on' | 'off'> & { readonly closed?: boolean };

export type AudioMotionOptions = {
  /** Output rate of samples (Hz); default 25. */
  fps?: number;
  /** Seed of the listening motion. */
  seed?: number;
  /** Attack / release of the mouth gate (ms); defaults 30 / 120. */
  gateAttackMs?: number;
  gateReleaseMs?: number;
  /** Drive the mouth from audio (default true); false = eyes/head only (mouth from another source). */
  mouthFromAudio?: boolean;
  /** Where a failing chunk (VAD or model error) is reported; without one it is only counted (`stats.errors`). */
  logger?: Logger;
};

/** At most one error log line per this long (the count goes with it). */
const ERROR_LOG_INTERVAL_MS = 5000;

export type AudioMotionStats = {
  samples: number;
  mouthFrames: number;
  speaking: boolean;
  speechProbability: number;
  /** Speech captured (packet arrival of the frame's centre) -> mouth sample published, ms. */
  speechToMouthP50Ms: number | null;
  speechToMouthP95Ms: number | null;
  inferenceP50Ms: number | null;
  lookaheadMs: number;
  errors: number;
};

type Arrival = { endSample: number; arrivalMs: number };

export class AudioMotionSource extends TypedEmitter<AudioMotionEvents> implements MotionSource {
  readonly kind = 'audio';
  readonly composer: FaceComposer;
  readonly #model: StreamingAudioToMouth;
  /** The model's envelope drive (manifest `envelope_drive`), if it has one. */
  readonly #envelope: MouthEnvelope | undefined;
  readonly #vad: SileroVad;
  readonly #gate = new SpeechGate();
  readonly #motion: ListeningMotion;
  readonly #feed: PcmFeed;
  readonly #timer: NodeJS.Timeout;
  readonly #closedDelta: Float32Array;
  readonly #options: Required<Omit<AudioMotionOptions, 'logger'>>;
  readonly #log: Logger | undefined;
  #lastErrorLogMs = Number.NEGATIVE_INFINITY;
  #queue: Promise<void> = Promise.resolve();
  #arrivals: Arrival[] = [];
  #mouth: { frame: MouthFrame; captureMs: number; readyMs: number } | undefined;
  #gateValue = 0;
  #gateAt = performance.now();
  #energy = 0;
  #speechProb = 0;
  #latest: AudioMotionSample | undefined;
  #lastMouthDelta: Float32Array | undefined;
  #seq = 0;
  #closed = false;
  #speechToMouth: number[] = [];
  #lastPose: IdlePose | undefined;
  readonly #stats = { samples: 0, mouthFrames: 0, errors: 0 };
  readonly #onPcm = (chunk: PcmChunk): void => {
    this.#queue = this.#queue.then(() => this.#process(chunk)).catch((error: unknown) => {
      this.#stats.errors += 1;
      const now = performance.now();
      if (now - this.#lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
      this.#lastErrorLogMs = now;
      this.#log?.warn({ err: error, errors: this.#stats.errors }, 'voice → mouth failed on an audio chunk; the mouth rests until it works again');
    });
  };
  readonly #onFeedClose = (): void => this.close();

  private constructor(feed: PcmFeed, composer: FaceComposer, model: StreamingAudioToMouth, vad: SileroVad,
    closedDelta: Float32Array, envelope: MouthEnvelope | undefined, options: AudioMotionOptions) {
    super();
    this.#feed = feed;
    this.composer = composer;
    this.#model = model;
    this.#envelope = envelope;
    this.#vad = vad;
    this.#closedDelta = closedDelta;
    const { logger, ...rest } = options;
    this.#log = logger;
    this.#options = { fps: 25, seed: 1, gateAttackMs: 30, gateReleaseMs: 120, mouthFromAudio: true, ...rest };
    this.#motion = new ListeningMotion(this.#options.seed, performance.now());
    feed.on('pcm', this.#onPcm);
    feed.on('close', this.#onFeedClose);
    this.#timer = setInterval(() => this.#tick(), 1000 / this.#options.fps);
    this.#timer.unref();
    this.#tick();
  }

  /**
   * @param reference the identity's 478*3 landmarks normalised to its image
   * @throws on a bad manifest/ONNX file or reference
   */
  static async create(feed: PcmFeed, reference: Float32Array, imageWidth: number, imageHeight: number,
    model: AudioToMouthModelFiles, options: AudioMotionOptions = {}): Promise<AudioMotionSource> {
    const composer = new FaceComposer(reference, imageWidth, imageHeight, model.manifest);
    const mouth = await StreamingAudioToMouth.create(model, composer.referenceRegion);
    const vad = await SileroVad.create();
    // the closed mouth is the identity's own rest (the reference the model was conditioned on:
    // zero displacement), not the model's guess for silence, which drifts for unseen faces
    const closed = new Float32Array(composer.referenceRegion.length);
    const drive = model.entry.envelope_drive;
    const envelope = drive ? new MouthEnvelope(model.manifest, drive) : undefined;
    return new AudioMotionSource(feed, composer, mouth, vad, closed, envelope, options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The mouth of the last tick as the model's displacement of the mouth region (canonical cm, R*3,
   * already gated by the VAD: the rest mouth in silence), for FaceComposer.mouthOnto; undefined
   * before the first tick or when this source does not take the mouth from audio.
   */
  mouthDelta(): Float32Array | undefined {
    return this.#lastMouthDelta;
  }

  latest(): AudioMotionSample | undefined {
    return this.#latest;
  }

  get stats(): AudioMotionStats {
    const pct = (xs: number[], q: number) => {
      if (xs.length === 0) return null;
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    };
    return {
      ...this.#stats,
      speaking: this.#gate.speaking,
      speechProbability: this.#speechProb,
      speechToMouthP50Ms: pct(this.#speechToMouth, 0.5),
      speechToMouthP95Ms: pct(this.#speechToMouth, 0.95),
      inferenceP50Ms: pct(this.#model.inferenceMs, 0.5),
      lookaheadMs: this.#model.manifest.lookahead_ms,
    };
  }

  /** Blinks the listening motion has begun so far (MotionSource.blinks). */
  get blinks(): number {
    return this.#motion.blinksStarted(performance.now());
  }

  /** The stats panel's voice → mouth figures (MotionSource.audioToLip). */
  audioToLip(): { speechToMouthMsP50: number | null; speechToMouthMsP95: number | null; lookaheadMs: number; inferenceMsP50: number | null } {
    const s = this.stats;
    return { speechToMouthMsP50: s.speechToMouthP50Ms, speechToMouthMsP95: s.speechToMouthP95Ms, lookaheadMs: s.lookaheadMs, inferenceMsP50: s.inferenceP50Ms };
  }

  /** The newest listening pose (for tests and the stats panel). */
  get pose(): IdlePose | undefined {
    return this.#lastPose;
  }

  /** Idempotent: stops listening to the feed and frees the ONNX sessions (not the feed). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#feed.off('pcm', this.#onPcm);
    this.#feed.off('close', this.#onFeedClose);
    const model = this.#model;
    const vad = this.#vad;
    this.#queue = this.#queue.then(async () => {
      await model.close();
      await vad.close();
    }).catch(() => undefined);
    this.safeEmit('close');
    this.removeAllListeners();
  }

  async #process(chunk: PcmChunk): Promise<void> {
    if (this.#closed) return;
    this.#arrivals.push({ endSample: chunk.startSample + chunk.samples.length, arrivalMs: chunk.arrivalMs });
    if (this.#arrivals.length > 200) this.#arrivals.splice(0, this.#arrivals.length - 200);
    const probs = await this.#vad.push(chunk.samples);
    for (const p of probs) {
      this.#speechProb = p;
      this.#gate.update(p, (VAD_FRAME / 16000) * 1000);
    }
    if (!this.#options.mouthFromAudio) return;
    const frames = await this.#model.push(chunk.samples, chunk.startSample);
    const now = performance.now();
    for (const f of frames) {
      this.#stats.mouthFrames += 1;
      const captureMs = this.#captureTime(f.centreSample) ?? now;
      // the envelope follower steps on every frame, in order, whatever the gate says
      const frame = this.#envelope ? { ...f, delta: this.#envelope.apply(f.delta, f.leadRms) } : f;
      this.#mouth = { frame, captureMs, readyMs: now };
      this.#energy = Math.min(1, f.rms / 0.1);
    }
  }

  /** Server time the audio at `sample` arrived (the packet that carried it). */
  #captureTime(sample: number): number | undefined {
    for (const a of this.#arrivals) if (a.endSample > sample) return a.arrivalMs;
    return undefined;
  }

  #tick(): void {
    if (this.#closed) return;
    const now = performance.now();
    const fresh = this.#mouth !== undefined && now - this.#mouth.readyMs < 300;
    const speaking = this.#gate.speaking && fresh;
    // mouth gate: eases open with speech, closes in silence or when audio stops
    const dt = now - this.#gateAt;
    this.#gateAt = now;
    const tau = speaking ? this.#options.gateAttackMs : this.#options.gateReleaseMs;
    this.#gateValue += ((speaking ? 1 : 0) - this.#gateValue) * (1 - Math.exp(-dt / tau));
    const g = this.#gateValue;
    let delta: Float32Array | undefined;
    if (this.#options.mouthFromAudio) {
      delta = new Float32Array(this.#closedDelta.length);
      const live = this.#mouth?.frame.delta;
      for (let i = 0; i < delta.length; i++) {
        const c = this.#closedDelta[i]!;
        delta[i] = live ? c + g * (live[i]! - c) : c;
      }
    }
    const pose = this.#motion.sample(now, speaking ? this.#energy : 0, speaking);
    this.#lastPose = pose;
    this.#lastMouthDelta = delta;
    const landmarks = this.composer.compose(delta, pose);
    // while audio flows (speech or silence) the motion is as old as the audio behind it, so the
    // session's capture→sent delay (and the listeners' lip-sync delay built on it) covers the
    // look-ahead; with no audio at all (muted) the idle motion is made now
    const captureTimeMs = fresh && this.#mouth ? this.#mouth.captureMs : now;
    if (speaking && this.#mouth) {
      this.#speechToMouth.push(now - this.#mouth.captureMs);
      if (this.#speechToMouth.length > 1000) this.#speechToMouth.shift();
    }
    this.#seq += 1;
    this.#stats.samples += 1;
    this.#latest = { landmarks, imageWidth: this.composer.imageWidth, imageHeight: this.composer.imageHeight,
      captureTimeMs, availableAtMs: now, seq: this.#seq, space: 'identity',
      // the voice's arrival at the server on the epoch clock (loopback e2e latency figures);
      // idle motion without audio has none
      ...(fresh && this.#mouth ? { originCaptureTimeMs: performance.timeOrigin + this.#mouth.captureMs } : {}) };
    this.safeEmit('sample', this.#latest);
  }
}
