import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerMediaCodecs } from '../media/mediaCodecs';
import { FaceComposer } from './FaceComposer';
import { startAudioMotion } from './startAudioMotion';
import { loadAudioModelManifest } from './StreamingAudioToMouth';
import { liveOpusProducer } from './testing/liveOpusProducer';
import { VoiceMouthSource } from './VoiceMouthSource';
import { ReplayMotionSource } from '../avatar/ReplayMotionSource';
import { pearson } from '../../../test/support/stats';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../../models/audio');
const SPEECH = path.resolve(import.meta.dirname, '../../../../shared/media/RD_Radio31_000.wav');
const vectors = JSON.parse(readFileSync(new URL('./testdata/composeVectors.json', import.meta.url), 'utf8'));

let worker: ms.Worker;
let router: ms.Router;
beforeAll(async () => {
  worker = await mediasoup.createWorker({ logLevel: 'error' });
  router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
});
afterAll(() => worker.close());

describe('startAudioMotion: microphone RTP -> talking landmarks, on a real router', () => {
  it('moves the mouth with the speech envelope and rests after it', async () => {
    // 5 s of speech, then 1.5 s of silence, sent in real time like a microphone
    const { transport, producer, send } = await liveOpusProducer(router, ['-t', '5', '-i', SPEECH, '-af', 'apad=pad_dur=1.5'], 777);
    const audio = await startAudioMotion(router, producer.id,
      { referenceLandmarks: Float32Array.from(vectors.reference as number[]), imageWidth: 512, imageHeight: 512 },
      loadAudioModelManifest(MODEL_DIR), { fps: 25 });
    const opening: { t: number; v: number }[] = [];
    const t0 = performance.now();
    audio.source.on('sample', (s) => opening.push({ t: s.captureTimeMs - t0, v: FaceComposer.mouthOpening(s.landmarks, 512, 512) }));
    const ffmpeg = send();
    const envelope: { t: number; rms: number }[] = [];
    audio.tap.on('pcm', (c) => {
      let s = 0;
      for (const v of c.samples) s += v * v;
      envelope.push({ t: c.arrivalMs - t0, rms: Math.sqrt(s / c.samples.length) });
    });
    await once(ffmpeg, 'close');
    await new Promise((r) => setTimeout(r, 300));
    const stats = audio.source.stats;
    audio.source.close(); // the session ending: the tap goes with it
    expect(audio.tap.closed).toBe(true);
    audio.close();
    transport.close();

    expect(audio.tap.stats.lostPackets).toBe(0);
    const speechEnd = envelope.find((e, i) => i > 100 && envelope.slice(i, i + 25).every((x) => x.rms < 1e-3))?.t ?? 5000;
    const talk = opening.filter((o) => o.t > 300 && o.t < speechEnd);
    const rest = opening.filter((o) => o.t > speechEnd + 500);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    expect(spread(talk.map((o) => o.v))).toBeGreaterThan(0.05);
    expect(spread(rest.map((o) => o.v))).toBeLessThan(0.01);
    // mouth opening vs the speech envelope (smoothed over 100 ms), both on the capture clock
    const env = (t: number) => {
      const w = envelope.filter((e) => Math.abs(e.t - t) <= 50);
      return w.reduce((s, e) => s + e.rms, 0) / Math.max(1, w.length);
    };
    const all = opening.filter((o) => o.t > 300);
    const corr = pearson(all.map((o) => o.v), all.map((o) => env(o.t)));
    const corrTalk = pearson(talk.map((o) => o.v), talk.map((o) => env(o.t)));
    console.log(JSON.stringify({ server_mouth_envelope_corr: Number(corr.toFixed(3)),
      server_mouth_envelope_corr_speech_only: Number(corrTalk.toFixed(3)),
      speech_to_mouth_p50_ms: stats.speechToMouthP50Ms, speech_to_mouth_p95_ms: stats.speechToMouthP95Ms,
      inference_p50_ms: stats.inferenceP50Ms, lookahead_ms: stats.lookaheadMs }));
    // The VAD gate (closed in silence, moving in speech) makes the opening follow the envelope over
    // the whole run; within speech the model follows phones, not loudness (the clips' real mouths
    // correlate with loudness at r = 0.05 on average, models/README.md), so this stays modest.
    expect(corr).toBeGreaterThan(0.08);
    expect(stats.speechToMouthP95Ms!).toBeLessThan(400);
  }, 30_000);
});

describe('VoiceMouthSource: the camera face with the mouth from the microphone, on a real router', () => {
  it('moves only the mouth region of the camera face, with the speech, and rests it in silence', async () => {
    const { transport, producer, send } = await liveOpusProducer(router, ['-t', '4', '-i', SPEECH, '-af', 'apad=pad_dur=1.5'], 778);
    const reference = Float32Array.from(vectors.reference as number[]);
    const audio = await startAudioMotion(router, producer.id, { referenceLandmarks: reference, imageWidth: 512, imageHeight: 512 },
      loadAudioModelManifest(MODEL_DIR), { fps: 25 });
    // the "camera" face: the identity's reference, shifted 20 px right (a head that moved)
    const face = reference.map((v, i) => (i % 3 === 0 ? v + 20 / 512 : v));
    const camera = new ReplayMotionSource({ frames: [face], width: 512, height: 512, fps: 25 });
    const source = new VoiceMouthSource(camera, audio.source);
    expect(source.kind).toBe('camera+voice');
    const region = new Set(vectors.mouth_region as number[]);
    const opening: { t: number; v: number }[] = [];
    let outsideMoved = 0;
    const t0 = performance.now();
    audio.source.on('sample', () => {
      const out = source.mouth.apply(face);
      for (let i = 0; i < out.length; i++) if (!region.has(Math.floor(i / 3)) && out[i] !== face[i]) outsideMoved += 1;
      opening.push({ t: performance.now() - t0, v: FaceComposer.mouthOpening(out, 512, 512) });
    });
    const ffmpeg = send();
    await once(ffmpeg, 'close');
    const endedAt = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1200)); // the microphone gone quiet: the mouth rests
    source.close(); // closes the camera source and the audio tap
    expect(camera.closed).toBe(true);
    expect(audio.tap.closed).toBe(true);
    audio.close();
    transport.close();

    expect(outsideMoved).toBe(0);
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    const talk = opening.filter((o) => o.t > 500 && o.t < endedAt - 1700).map((o) => o.v);
    const rest = opening.filter((o) => o.t > endedAt + 500).map((o) => o.v);
    expect(talk.length).toBeGreaterThan(40);
    expect(rest.length).toBeGreaterThan(3);
    expect(spread(talk)).toBeGreaterThan(0.05);
    expect(spread(rest)).toBeLessThan(0.01);
  }, 30_000);
});
