import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TypedEmitter } from '../util/TypedEmitter';
import { AudioMotionSource, type AudioMotionSample } from './AudioMotionSource';
import { FaceComposer } from './FaceComposer';
import type { PcmChunk } from './RtpAudioReceiver';
import { loadAudioModelManifest, type AudioToMouthModelFiles } from './StreamingAudioToMouth';
import { decodeAudio16k } from './testing/decodeAudio';
import { pearson } from '../../../test/support/stats';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../../models/audio');
const SPEECH = path.resolve(import.meta.dirname, '../../../../shared/media/RD_Radio31_000.wav');
const vectors = JSON.parse(readFileSync(new URL('./testdata/composeVectors.json', import.meta.url), 'utf8'));
const reference = Float32Array.from(vectors.reference as number[]);

let files: AudioToMouthModelFiles;
let speech: Float32Array;
let source: AudioMotionSource | undefined;

beforeAll(() => {
  files = loadAudioModelManifest(MODEL_DIR);
  speech = decodeAudio16k(SPEECH, 3);
});
afterEach(() => source?.close());

class FakeFeed extends TypedEmitter<{ pcm: [PcmChunk]; close: [] }> {}

/** Plays `audio` into the feed in real time, 20 ms chunks; `null` stretches are muted (no packets). */
async function play(feed: FakeFeed, parts: (Float32Array | { silenceMs: number; muted?: boolean })[]): Promise<number[]> {
  let sample = 0;
  const starts: number[] = [];
  for (const part of parts) {
    starts.push(performance.now());
    const audio = part instanceof Float32Array ? part : new Float32Array((part.silenceMs / 1000) * 16000);
    const muted = !(part instanceof Float32Array) && part.muted;
    for (let s = 0; s < audio.length; s += 320) {
      if (!muted) feed.emit('pcm', { samples: audio.slice(s, s + 320), startSample: sample + s, arrivalMs: performance.now(), kind: 'decoded' });
      await new Promise((r) => setTimeout(r, 20));
    }
    sample += audio.length;
  }
  return starts;
}

describe('AudioMotionSource', () => {
  it('talks with speech, rests closed in silence and when muted, blinks throughout', async () => {
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files, { fps: 25, seed: 3 });
    const samples: { t: number; s: AudioMotionSample; blink: number }[] = [];
    const t0 = performance.now();
    source.on('sample', (s) => samples.push({ t: performance.now() - t0, s, blink: source!.pose!.blink }));
    const [, silenceAt] = (await play(feed, [speech, { silenceMs: 1500 }, { silenceMs: 1000, muted: true }])).map((t) => t - t0);
    const open = (s: AudioMotionSample) => FaceComposer.mouthOpening(s.landmarks, 512, 512);
    const during = samples.filter((x) => x.t > 500 && x.t < silenceAt! - 100).map((x) => open(x.s));
    // VAD hang-over (250 ms) + gate release (120 ms) + the look-ahead: closed 800 ms into the silence
    const after = samples.filter((x) => x.t > silenceAt! + 800).map((x) => open(x.s));
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(samples.length).toBeGreaterThan(100); // ~25 Hz for ~5.5 s
    expect(spread(during)).toBeGreaterThan(0.05);
    expect(spread(after)).toBeLessThan(0.01);
    expect(Math.max(...after)).toBeLessThan(during.reduce((a, b) => a + b) / during.length);
    expect(samples.some((x) => x.blink > 0.9)).toBe(true); // first blink within 2.8 s by design
    expect(source.blinks).toBeGreaterThanOrEqual(1);
    expect(samples.every((x) => x.s.space === 'identity' && x.s.landmarks.length === 478 * 3)).toBe(true);
    expect(samples.every((x, i) => i === 0 || x.s.seq > samples[i - 1]!.s.seq)).toBe(true);
    const st = source.stats;
    expect(st.errors).toBe(0);
    expect(st.mouthFrames).toBeGreaterThan(100);
    expect(st.lookaheadMs).toBeLessThanOrEqual(120);
    // speech captured -> mouth published: look-ahead + a 40 ms step + inference + the 40 ms tick
    expect(st.speechToMouthP95Ms!).toBeLessThan(400);
    expect(st.speechToMouthP50Ms!).toBeGreaterThan(st.lookaheadMs - 30);
  }, 30_000);

  it('noise-only audio leaves the mouth at rest (VAD); hard-clipped tonal audio never breaks the stream', async () => {
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files, { fps: 25, seed: 5 });
    const open: number[] = [];
    source.on('sample', (s) => open.push(FaceComposer.mouthOpening(s.landmarks, 512, 512)));
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const noise = Float32Array.from({ length: 32000 }, () => 0.1 * rand());
    // a clipped chord (not speech): three tones, gain 4, clipped at ±1
    const chord = Float32Array.from({ length: 16000 }, (_, i) => Math.max(-1, Math.min(1,
      4 * (Math.sin(i * 0.0864) + Math.sin(i * 0.1088) + Math.sin(i * 0.1294)) / 3)));
    const speakingLog: string[] = [];
    source.on('sample', () => speakingLog.push(source!.stats.speaking ? 'S' : '.'));
    await play(feed, [noise, chord]);
    expect(source.stats.errors).toBe(0);
    expect(source.stats.mouthFrames).toBeGreaterThan(100);
    expect(open.every(Number.isFinite)).toBe(true);
    // noise: the VAD never opens, the mouth stays at the closed shape (the first 2 s of samples)
    const noisePart = open.slice(0, 45);
    expect(speakingLog.slice(0, 45).every((x) => x === '.')).toBe(true);
    expect(Math.max(...noisePart) - Math.min(...noisePart)).toBeLessThan(0.01);
    // the clipped chord: Silero takes part of it for speech (a known false positive on harsh tonal
    // audio), so the mouth may move; it stays finite and the stream goes on
  }, 30_000);

  it("with the model's envelope drive the mouth opens and closes with the voice's loudness", async () => {
    const drive = files.entry.envelope_drive;
    expect(drive, 'the shipped model carries an envelope_drive').toBeDefined();
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files, { fps: 25, seed: 7 });
    // each published sample -> the stream sample its mouth belongs to, through the packet arrival times
    const arrivals: { ms: number; sample: number }[] = [];
    feed.on('pcm', (c) => arrivals.push({ ms: c.arrivalMs, sample: c.startSample }));
    const seen: { open: number; sample: number }[] = [];
    source.on('sample', (x) => {
      const a = arrivals.find((p) => p.ms >= x.captureTimeMs);
      if (a && x.originCaptureTimeMs !== undefined) seen.push({ open: FaceComposer.mouthOpening(x.landmarks, 512, 512), sample: a.sample });
    });
    const audio = new Float32Array(speech.length + 16000);
    audio.set(speech);
    await play(feed, [audio]);
    // the e2e's envelope: RMS of 10 ms blocks averaged over ±60 ms
    const envAt = (centre: number) => {
      let sum = 0;
      let n = 0;
      for (let s = Math.max(0, centre - 960); s + 160 <= Math.min(audio.length, centre + 960); s += 160) {
        let e = 0;
        for (let i = s; i < s + 160; i++) e += audio[i]! ** 2;
        sum += Math.sqrt(e / 160);
        n += 1;
      }
      return n ? sum / n : 0;
    };
    expect(seen.length).toBeGreaterThan(60);
    const r = pearson(seen.map((x) => x.open), seen.map((x) => envAt(x.sample)));
    expect(r).toBeGreaterThan(0.5);
  }, 30_000);

  it('close() is idempotent, stops the samples and frees the models', async () => {
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files);
    let closes = 0;
    source.on('close', () => closes++);
    source.close();
    source.close();
    expect(closes).toBe(1);
    expect(source.closed).toBe(true);
    expect(feed.listenerCount('pcm')).toBe(0);
  });

  it('closes when its feed closes', async () => {
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files);
    feed.emit('close');
    expect(source.closed).toBe(true);
  });

  it('logs a chunk it cannot process (with the running count), not only counts it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const feed = new FakeFeed();
    source = await AudioMotionSource.create(feed, reference, 512, 512, files, { fps: 25, logger });
    feed.emit('pcm', { samples: undefined, startSample: 0, arrivalMs: performance.now(), kind: 'decoded' } as unknown as PcmChunk);
    await expect.poll(() => source!.stats.errors).toBe(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ errors: 1, msg: expect.stringMatching(/voice → mouth failed/) });
  });
});
