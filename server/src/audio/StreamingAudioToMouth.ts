/**
 * The audio-to-mouth model in onnxruntime-node, streaming: 16 kHz PCM in, one mouth displacement
 * per 20 ms encoder frame out, each tagged with the audio sample it belongs to.
 *
 * Every `stepFrames` new frames (default 2 = 40 ms) the encoder and head run on the last
 * `contextFrames` (64 = 1.28 s) of audio; the newest frames whose look-ahead is complete
 * (`lookaheadFrames` = encoder 3 + head 2 frames behind the newest) are emitted. So a frame
 * centred at audio sample s is out once sample s + lookahead (112.5 ms) has arrived, plus the
 * step and the inference time.
 *
 * Normalisation: wav2vec2 wants zero-mean unit-variance input; a stream has no whole utterance,
 * so the variance is a running estimate (time constant 3 s) updated only on loud-enough audio,
 * so silence stays quiet (and reads as a closed mouth) instead of being amplified.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { audioToMouthManifestSchema, type AudioModelEntry, type AudioToMouthManifest } from '@shared/audio';

export type MouthFrame = {
  /** Displacement of the manifest's mouth region from the reference, canonical cm (R*3). */
  delta: Float32Array;
  /** The frame's centre on the stream's 16 kHz clock. */
  centreSample: number;
  /** RMS of the raw audio over the frame (before normalisation). */
  rms: number;
  /** RMS of the raw frame `envelopeLeadFrames` later (within the look-ahead): the envelope drive's input. */
  leadRms: number;
};

export type AudioToMouthModelFiles = { manifest: AudioToMouthManifest; entry: AudioModelEntry; dir: string };

/** Reads and validates `<dir>/manifest.json`, picking model `name` (default 'all'). */
export function loadAudioModelManifest(dir: string, name = 'all'): AudioToMouthModelFiles {
  const file = path.join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the audio-to-mouth manifest ${file}: ${(error as Error).message}`);
  }
  const parsed = audioToMouthManifestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid audio-to-mouth manifest ${file}: ${parsed.error.message}`);
  const entry = parsed.data.models.find((m) => m.name === name);
  if (!entry) throw new Error(`audio-to-mouth manifest ${file} has no model '${name}'`);
  return { manifest: parsed.data, entry, dir };
}

export type StreamingAudioToMouthOptions = {
  /** Frames of audio per inference (default 64 = 1.28 s). */
  contextFrames?: number;
  /** New frames between inferences (default 2 = 40 ms). */
  stepFrames?: number;
  /** Which later frame's RMS a frame carries as `leadRms` (default the model's envelope_drive.lead_frames, else 0). */
  envelopeLeadFrames?: number;
};

function lookaheadFramesOf(m: AudioToMouthManifest): number {
  return Math.round(((m.lookahead_ms / 1000) * m.sample_rate - m.window_samples / 2) / m.hop_samples);
}

/** @throws if the envelope lead reaches past the look-ahead (those frames would not have arrived) */
function leadFramesOf(files: AudioToMouthModelFiles, options: StreamingAudioToMouthOptions): number {
  const lead = options.envelopeLeadFrames ?? files.entry.envelope_drive?.lead_frames ?? 0;
  const max = lookaheadFramesOf(files.manifest);
  if (lead > max) throw new Error(`the envelope lead (${lead} frames) must lie within the look-ahead (${max})`);
  return lead;
}

export class StreamingAudioToMouth {
  readonly manifest: AudioToMouthManifest;
  /** Frames of future audio a frame's output depends on (from the manifest's look-ahead). */
  readonly lookaheadFrames: number;
  readonly #encoder: ort.InferenceSession;
  readonly #head: ort.InferenceSession;
  readonly #reference: ort.Tensor;
  readonly #hop: number;
  readonly #window: number;
  readonly #contextFrames: number;
  readonly #stepFrames: number;
  readonly #leadFrames: number;
  /** Raw 16 kHz samples from `#bufStart` on. */
  #buf = new Float32Array(0);
  #bufStart = 0;
  /** Next frame index to emit. */
  #nextFrame = 0;
  #variance = 0;
  #haveLevel = false;
  #closed = false;
  /** Milliseconds per inference (encoder + head), last 100 runs. */
  readonly inferenceMs: number[] = [];

  private constructor(files: AudioToMouthModelFiles, encoder: ort.InferenceSession, head: ort.InferenceSession,
    reference: Float32Array, options: StreamingAudioToMouthOptions) {
    this.manifest = files.manifest;
    this.#encoder = encoder;
    this.#head = head;
    this.#hop = files.manifest.hop_samples;
    this.#window = files.manifest.window_samples;
    this.#contextFrames = options.contextFrames ?? 64;
    this.#stepFrames = options.stepFrames ?? 2;
    const m = files.manifest;
    this.lookaheadFrames = lookaheadFramesOf(m);
    this.#leadFrames = leadFramesOf(files, options);
    if (reference.length !== files.manifest.mouth_region.length * 3) {
      throw new Error(`reference mouth must have ${files.manifest.mouth_region.length * 3} floats`);
    }
    this.#reference = new ort.Tensor('float32', reference, [1, reference.length]);
  }

  /** `reference`: FaceComposer.referenceRegion of the identity. */
  static async create(files: AudioToMouthModelFiles, reference: Float32Array,
    options: StreamingAudioToMouthOptions = {}): Promise<StreamingAudioToMouth> {
    leadFramesOf(files, options); // validates before any session is made
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    const encoder = await ort.InferenceSession.create(path.join(files.dir, files.entry.encoder), opts);
    const head = await ort.InferenceSession.create(path.join(files.dir, files.entry.head), opts);
    return new StreamingAudioToMouth(files, encoder, head, reference, options);
  }

  /** Appends samples starting at `startSample` (gaps are filled with silence) and returns the mouth frames now complete. */
  async push(samples: Float32Array, startSample: number): Promise<MouthFrame[]> {
    if (this.#closed) return [];
    this.#append(samples, startSample);
    const out: MouthFrame[] = [];
    const end = this.#bufStart + this.#buf.length;
    // the newest frame whose look-ahead is complete: its encoder frame index + lookahead must exist
    const framesAvailable = Math.floor((end - this.#window) / this.#hop) + 1;
    const lastReady = framesAvailable - 1 - this.lookaheadFrames;
    if (lastReady - this.#nextFrame + 1 < this.#stepFrames) return out;
    out.push(...(await this.#run(framesAvailable, lastReady)));
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#encoder.release(), this.#head.release()]);
  }

  /**
   * Adds `samples` at `startSample` to the kept window (the last contextFrames + look-ahead of
   * audio): samples already held are skipped, a gap before them reads as silence. The cost is the
   * window's, not the gap's: after a long jump of the stream clock only zeros and the new samples
   * are kept.
   */
  #append(samples: Float32Array, startSample: number): void {
    // frame f covers stream samples [f * hop, f * hop + window); before the first chunk is silence
    if (this.#buf.length === 0 && this.#nextFrame === 0) this.#bufStart = startSample;
    const end = this.#bufStart + this.#buf.length;
    const add = samples.subarray(Math.min(Math.max(0, end - startSample), samples.length));
    const gap = Math.max(0, startSample - end);
    // in "merged" coordinates (old buffer, gap, new samples), keep the newest `kept` samples
    const total = this.#buf.length + gap + add.length;
    const kept = Math.min(total, (this.#contextFrames + this.lookaheadFrames + 4) * this.#hop + this.#window);
    const keepFrom = total - kept;
    const next = new Float32Array(kept);
    if (keepFrom < this.#buf.length) next.set(this.#buf.subarray(keepFrom));
    const addAt = this.#buf.length + gap;
    const addFrom = Math.max(0, keepFrom - addAt);
    next.set(add.subarray(addFrom), addAt + addFrom - keepFrom);
    this.#buf = next;
    this.#bufStart += keepFrom;
    this.#updateLevel(add);
  }

  #updateLevel(x: Float32Array): void {
    if (x.length === 0) return;
    let sum = 0;
    for (const v of x) sum += v * v;
    const ms = sum / x.length;
    if (ms < 1e-6) return; // silence: keep the speech level
    if (!this.#haveLevel) {
      this.#variance = ms;
      this.#haveLevel = true;
      return;
    }
    const a = 1 - Math.exp(-(x.length / 16000) / 3);
    this.#variance += (ms - this.#variance) * a;
  }

  async #run(framesAvailable: number, lastReady: number): Promise<MouthFrame[]> {
    // window of frames [first, framesAvailable) in absolute frame indices (frame 0 = first sample ever)
    const first = Math.max(0, framesAvailable - this.#contextFrames);
    const from = first * this.#hop - this.#bufStart;
    const to = (framesAvailable - 1) * this.#hop + this.#window - this.#bufStart;
    const origin = Math.max(0, from);
    const raw = this.#buf.subarray(origin, to);
    const scale = 1 / Math.sqrt((this.#haveLevel ? this.#variance : 1e-2) + 1e-7);
    const x = new Float32Array(to - from); // left-pad with zeros if the stream just started
    for (let i = 0; i < raw.length; i++) x[origin - from + i] = raw[i]! * scale;
    const t0 = performance.now();
    const enc = await this.#encoder.run({ [this.#encoder.inputNames[0]!]: new ort.Tensor('float32', x, [1, x.length]) });
    const feats = enc[this.#encoder.outputNames[0]!]!;
    const head = await this.#head.run({ features: feats, reference: this.#reference });
    this.inferenceMs.push(performance.now() - t0);
    if (this.inferenceMs.length > 100) this.inferenceMs.shift();
    const delta = head['mouth_delta']!;
    const [, frames, dims] = delta.dims as [number, number, number];
    const data = delta.data as Float32Array;
    const out: MouthFrame[] = [];
    for (let f = Math.max(this.#nextFrame, first); f <= lastReady; f++) {
      const k = f - first;
      if (k < 0 || k >= frames) continue;
      out.push({ delta: data.slice(k * dims, (k + 1) * dims), centreSample: f * this.#hop + this.#window / 2,
        rms: this.#frameRms(f), leadRms: this.#frameRms(f + this.#leadFrames) });
    }
    this.#nextFrame = lastReady + 1;
    return out;
  }

  /** RMS of the raw samples of frame `f` (zeros outside the buffer). */
  #frameRms(f: number): number {
    const s0 = f * this.#hop - this.#bufStart;
    let sum = 0;
    for (let i = Math.max(0, s0); i < Math.min(this.#buf.length, s0 + this.#window); i++) sum += this.#buf[i]! ** 2;
    return Math.sqrt(sum / this.#window);
  }
}
