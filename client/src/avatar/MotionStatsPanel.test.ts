import { describe, expect, it } from 'vitest';
import { loadMotionBasis, MotionEncodeError, MotionEncoder } from '@shared/motion';
import { motionFixtures } from '@shared/motion/testdata/motionFixtures';
import { placeFace } from '@shared/motion/testdata/placeFace';
import { localUplinkText } from './MotionStatsPanel';
import { countRefusal, type UplinkCounters } from './MotionUplink';

describe('refused motion frames in the page stats', () => {
  it('counts what the encoder refuses by field and shows it with a hint', () => {
    const counters: UplinkCounters = { frames: 0, tracked: 0, noFace: 0, sent: 0, skipped: 0, sendErrors: 0, bytesSent: 0, refused: {} };
    const encoder = new MotionEncoder(loadMotionBasis());
    const sample = motionFixtures.samples[0]!;
    // A face far bigger than the frame: its radius exceeds the long side, which no packet carries.
    const landmarks = placeFace(sample.landmarks, sample.imageWidth, sample.imageHeight, 320, 240, 5, 0.5, 0.5);
    for (let i = 0; i < 3; i++) {
      try {
        encoder.encode({ ...sample, landmarks, imageWidth: 320, imageHeight: 240 });
        throw new Error('expected a refusal');
      } catch (error) {
        expect(error).toBeInstanceOf(MotionEncodeError);
        countRefusal(counters, error as MotionEncodeError);
      }
    }
    expect(counters.refused).toEqual({ scale: 3 });
    expect(encoder.nextSeq).toBe(0);
    const text = localUplinkText({ trackedFps: 24, kbps: 12.3, sentPackets: 10, faceFound: true, refusedFrames: 3, lastRefusal: 'scale' });
    expect(text).toBe('uplink 12.3 kbps · 24 fps tracked · 10 sent · 3 not coded (face too close or too far)');
    expect(localUplinkText({ trackedFps: 24, kbps: 12.3, sentPackets: 10, faceFound: true, refusedFrames: 0, lastRefusal: undefined })).not.toMatch(/not coded/);
    expect(localUplinkText({ trackedFps: 24, kbps: 12.3, sentPackets: 10, faceFound: true, refusedFrames: 1, lastRefusal: 'shape', shapeSaturatedFrames: 4, shapeSaturationMaxPct: 0.84 }))
      .toBe('uplink 12.3 kbps · 24 fps tracked · 10 sent · 1 not coded (expression beyond the motion codec) · 4 at the expression limit (≤ 0.8% of face size)');
  });
});
