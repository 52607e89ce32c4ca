import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceComposer } from './FaceComposer';
import { loadAudioModelManifest, StreamingAudioToMouth, type AudioToMouthModelFiles, type MouthFrame } from './StreamingAudioToMouth';
import { decodeAudio16k } from './testing/decodeAudio';
import { pearson } from '../../../test/support/stats';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../../models/audio');
/** Speech never used in training (no video, so no landmarks to train on). */
const SPEECH = path.resolve(import.meta.dirname, '../../../../shared/media/RD_Radio31_000.wav');
const vectors = JSON.parse(readFileSync(new URL('./testdata/composeVectors.json', import.meta.url), 'utf8'));

let files: AudioToMouthModelFiles;
let composer: FaceComposer;
let speech: Float32Array;

beforeAll(() => {
  files = loadAudioModelManifest(MODEL_DIR);
  composer = new FaceComposer(Float32Array.from(vectors.reference), 512, 512, files.manifest);
  speech = decodeAudio16k(SPEECH, 6);
});

const opening = (delta: Float32Array) => FaceComposer.mouthOpening(composer.compose(delta, undefined), 512, 512);

async function stream(audio: Float32Array, chunk = 320) {
  const m = await StreamingAudioToMouth.create(files, composer.referenceRegion);
  const frames: (MouthFrame & { endAtEmit: number })[] = [];
  for (let s = 0; s < audio.length; s += chunk) {
    const part = audio.subarray(s, Math.min(audio.length, s + chunk));
    for (const f of await m.push(part, s)) frames.push({ ...f, endAtEmit: s + part.length });
  }
  const inference = [...m.inferenceMs];
  await m.close();
  return { frames, inference };
}

describe('StreamingAudioToMouth (shipped model, onnxruntime-node)', () => {
  it('streams the same mouth as one offline pass over the whole utterance', async () => {
    const { frames } = await stream(speech);
    // offline: the whole utterance, wav2vec2 normalisation over all of it
    let mean = 0;
    for (const v of speech) mean += v / speech.length;
    let variance = 0;
    for (const v of speech) variance += (v - mean) ** 2 / speech.length;
    const x = speech.map((v) => (v - mean) / Math.sqrt(variance + 1e-7));
    const enc = await ort.InferenceSession.create(path.join(MODEL_DIR, files.entry.encoder));
    const head = await ort.InferenceSession.create(path.join(MODEL_DIR, files.entry.head));
    const feats = (await enc.run({ input_values: new ort.Tensor('float32', x, [1, x.length]) }))['last_hidden_state']!;
    const out = await head.run({ features: feats, reference: new ort.Tensor('float32', composer.referenceRegion, [1, composer.referenceRegion.length]) });
    const d = out['mouth_delta']!;
    const dims = d.dims[2]!;
    const data = d.data as Float32Array;
    const offline = (i: number) => opening(data.slice(i * dims, (i + 1) * dims));
    const idx = frames.map((f) => (f.centreSample - 200) / 320).filter((i) => i >= 70 && i < d.dims[1]! - 5);
    const streamed = frames.filter((f) => idx.includes((f.centreSample - 200) / 320)).map((f) => opening(f.delta));
    expect(idx.length).toBeGreaterThan(150);
    expect(pearson(streamed, idx.map(offline))).toBeGreaterThan(0.9);
    // the mouth moves with speech
    const sd = Math.sqrt(streamed.reduce((s, v) => s + (v - streamed.reduce((a, b) => a + b) / streamed.length) ** 2, 0) / streamed.length);
    expect(sd).toBeGreaterThan(0.01);
  });

  it('emits each frame once its look-ahead has arrived, never waiting much longer, frames in order', async () => {
    const { frames, inference } = await stream(speech.subarray(0, 32000));
    const look = (files.manifest.lookahead_ms / 1000) * 16000;
    for (const [k, f] of frames.entries()) {
      if (k > 0) expect(f.centreSample - frames[k - 1]!.centreSample).toBe(320);
      expect(f.endAtEmit).toBeGreaterThanOrEqual(f.centreSample + look - 1);
      expect(f.endAtEmit - (f.centreSample + look)).toBeLessThanOrEqual(2 * 320 + 320);
    }
    expect(frames[0]!.centreSample).toBe(200);
    expect(inference.length).toBeGreaterThan(10);
  });

  it("carries, with each frame, the raw RMS of the frame envelope_drive.lead_frames later (within the look-ahead)", async () => {
    const lead = 3;
    const m = await StreamingAudioToMouth.create(files, composer.referenceRegion, { envelopeLeadFrames: lead });
    const frames: MouthFrame[] = [];
    const audio = speech.subarray(0, 16000);
    for (let s = 0; s < audio.length; s += 320) frames.push(...(await m.push(audio.subarray(s, s + 320), s)));
    await m.close();
    expect(frames.length).toBeGreaterThan(30);
    for (let k = 0; k + lead < frames.length; k++) expect(frames[k]!.leadRms).toBeCloseTo(frames[k + lead]!.rms, 6);
    const over = StreamingAudioToMouth.create(files, composer.referenceRegion, { envelopeLeadFrames: 99 });
    await expect(over).rejects.toThrow(/within the look-ahead/);
  });

  it('streams on after a jump of the stream clock (a long mute) at the cost of its window, not of the gap', async () => {
    const m = await StreamingAudioToMouth.create(files, composer.referenceRegion);
    const audio = speech.subarray(0, 16000);
    for (let s = 0; s < audio.length; s += 320) await m.push(audio.subarray(s, s + 320), s);
    const jump = 2 ** 32; // 74 h of 16 kHz clock: more samples than any typed array may hold
    const after: MouthFrame[] = [];
    for (let s = 0; s < audio.length; s += 320) after.push(...(await m.push(audio.subarray(s, s + 320), jump + s)));
    await m.close();
    expect(after.length).toBeGreaterThan(20);
    for (let k = 1; k < after.length; k++) expect(after[k]!.centreSample - after[k - 1]!.centreSample).toBe(320);
    const look = (files.manifest.lookahead_ms / 1000) * 16000;
    expect(after.at(-1)!.centreSample).toBeGreaterThan(jump + audio.length - look - 3 * 320);
    expect(after.every((f) => f.delta.every(Number.isFinite))).toBe(true);
  });

  it('keeps the mouth still in silence after speech', async () => {
    const audio = new Float32Array(speech.length + 48000);
    audio.set(speech);
    const { frames } = await stream(audio);
    const silent = frames.filter((f) => f.centreSample > speech.length + 16000).map((f) => opening(f.delta));
    const speaking = frames.filter((f) => f.centreSample > 16000 && f.centreSample < speech.length - 8000).map((f) => opening(f.delta));
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(silent.length).toBeGreaterThan(80);
    expect(spread(silent)).toBeLessThan(0.1 * spread(speaking));
    expect(Math.max(...silent)).toBeLessThan(speaking.reduce((a, b) => a + b) / speaking.length);
  });

  it('rejects a manifest that is not one', () => {
    const bad = JSON.parse(readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8'));
    bad.models[0].envelope_drive = { ...bad.models[0].envelope_drive, open_direction: [0, 0, 0] };
    const dir = mkdtempSync(path.join(tmpdir(), 'a2m-'));
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(bad));
    expect(() => loadAudioModelManifest(dir)).toThrow(/one 3-vector per mouth-region landmark/);
    rmSync(dir, { recursive: true });
    expect(() => loadAudioModelManifest('/nonexistent')).toThrow(/cannot read the audio-to-mouth manifest/);
    expect(() => loadAudioModelManifest(MODEL_DIR, 'nope')).toThrow(/has no model 'nope'/);
  });
});
