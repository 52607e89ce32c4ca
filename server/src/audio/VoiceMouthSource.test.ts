import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ReplayMotionSource } from '../avatar/ReplayMotionSource';
import { TypedEmitter } from '../util/TypedEmitter';
import { AudioMotionSource } from './AudioMotionSource';
import { FaceComposer } from './FaceComposer';
import type { PcmChunk } from './RtpAudioReceiver';
import { loadAudioModelManifest } from './StreamingAudioToMouth';
import { decodeAudio16k } from './testing/decodeAudio';
import { VoiceMouthSource } from './VoiceMouthSource';

const MODEL_DIR = path.resolve(import.meta.dirname, '../../../models/audio');
const SPEECH = path.resolve(import.meta.dirname, '../../../../shared/media/RD_Radio31_000.wav');
const vectors = JSON.parse(readFileSync(new URL('./testdata/composeVectors.json', import.meta.url), 'utf8'));

class FakeFeed extends TypedEmitter<{ pcm: [PcmChunk]; close: [] }> {}

describe('VoiceMouthSource', () => {
  it('stops overriding the mouth once the voice has ended, instead of keeping its last (open) mouth', async () => {
    const reference = Float32Array.from(vectors.reference as number[]);
    const feed = new FakeFeed();
    const voice = await AudioMotionSource.create(feed, reference, 512, 512, loadAudioModelManifest(MODEL_DIR), { fps: 25 });
    const camera = new ReplayMotionSource({ frames: [reference], width: 512, height: 512, fps: 25 });
    const source = new VoiceMouthSource(camera, voice);
    const speech = decodeAudio16k(SPEECH, 2);
    const restOpening = FaceComposer.mouthOpening(reference, 512, 512);
    let opened = false;
    for (let s = 0; s < speech.length && !opened; s += 320) {
      feed.emit('pcm', { samples: speech.slice(s, s + 320), startSample: s, arrivalMs: performance.now(), kind: 'decoded' });
      await new Promise((r) => setTimeout(r, 20));
      opened = FaceComposer.mouthOpening(source.mouth.apply(reference), 512, 512) > restOpening + 0.05;
    }
    expect(opened).toBe(true); // the voice moves the mouth
    voice.close(); // e.g. the microphone's producer closed mid-word
    expect(camera.closed).toBe(true);
    expect(Array.from(source.mouth.apply(reference))).toEqual(Array.from(reference));
  });
});
