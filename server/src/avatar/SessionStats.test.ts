import { describe, expect, it } from 'vitest';
import type { MotionSourceSample } from './MotionSource';
import { SessionStats, type SentFrame } from './SessionStats';

function sample(seq: number, captureTimeMs: number, availableAtMs: number): MotionSourceSample {
  return { landmarks: new Float32Array(478 * 3), imageWidth: 640, imageHeight: 480, captureTimeMs, availableAtMs, seq, space: 'driver', originCaptureTimeMs: 1e12 + captureTimeMs };
}

function frame(sentAtMs: number, extra: Partial<SentFrame> = {}): SentFrame {
  return { sentAtMs, tickDueMs: sentAtMs - 20, rtpTimestamp: sentAtMs * 90, bytes: 1000, encodeMs: 5, keyframe: false, state: 'live', sample: undefined, mouthOpen: 0, ...extra };
}

describe('SessionStats', () => {
  it('times each motion sample once, at its first frame; a held sample has an age but no played→sent', () => {
    const stats = new SessionStats();
    const s = sample(1, 900, 960);
    expect(stats.sent(frame(1000, { sample: s }))).toEqual({ motionAgeMs: 80, playedToSentMs: 40, originCaptureTimeMs: 1e12 + 900 });
    expect(stats.sent(frame(1040, { sample: s, state: 'hold' }))).toEqual({ motionAgeMs: 120, playedToSentMs: null, originCaptureTimeMs: 1e12 + 900 });
    expect(stats.sent(frame(1080))).toEqual({ motionAgeMs: null, playedToSentMs: null, originCaptureTimeMs: null });
    expect(stats.captureToSentMsP50()).toBe(100);
    expect(stats.snapshot(1100)).toMatchObject({ framesSent: 3, playedToSentMsP50: 40, motionAgeMsP50: 80 });
  });

  it('measures PLI → key frame from the first request not yet answered', () => {
    const stats = new SessionStats();
    stats.keyframeRequested(1000);
    stats.keyframeRequested(1030);
    stats.sent(frame(1050));
    stats.sent(frame(1090, { keyframe: true }));
    stats.sent(frame(1130, { keyframe: true }));
    expect(stats.keyframeLatency.quantile(1)).toBe(90);
    expect(stats.snapshot(1200)).toMatchObject({ keyframes: 2, keyframeRequests: 2 });
  });

  it('counts drops by reason and keeps only the last 512 frames in its log', () => {
    const stats = new SessionStats();
    stats.drop('inference_busy');
    stats.drop('inference_busy');
    stats.drop('encoder_busy');
    expect(stats.dropped).toEqual({ inference_busy: 2, encoder_busy: 1 });
    for (let i = 0; i < 600; i += 1) stats.sent(frame(i * 40));
    expect(stats.recentFrames()).toHaveLength(512);
    expect(stats.recentFrames()[0]!.sentAtMs).toBe(88 * 40);
  });
});
