import { describe, expect, it } from 'vitest';
import { loadMotionLibraryTrack } from '../../../test/support/motionLibraryTrack';
import { FaceMotionController, type FaceMotionTiming } from './FaceMotionController';
import { TypedEmitter } from '../util/TypedEmitter';
import type { MotionSource, MotionSourceEvents, MotionSourceSample } from './MotionSource';
import { Retargeter } from './retarget/retarget';

class ManualSource extends TypedEmitter<MotionSourceEvents> implements MotionSource {
  readonly kind = 'manual';
  closed = false;
  sample: MotionSourceSample | undefined;
  #seq = 0;
  latest() {
    return this.sample;
  }
  push(landmarks: Float32Array, nowMs: number, width: number, height: number) {
    this.#seq += 1;
    this.sample = { landmarks, imageWidth: width, imageHeight: height, captureTimeMs: nowMs, availableAtMs: nowMs, seq: this.#seq, space: 'driver' };
  }
  close() {
    this.closed = true;
  }
}

const timing: FaceMotionTiming = {
  calibrationMs: 400,
  calibrationMinFrames: 5,
  holdAfterMs: 120,
  easeAfterMs: 400,
  easeMs: 600,
  idleAfterMs: 1000,
  blinksPerMinute: [12, 20],
  blinkDurationMs: [120, 300],
};
const d10 = loadMotionLibraryTrack('d10');
const s0 = loadMotionLibraryTrack('s0');

function setup() {
  const retargeter = new Retargeter({ landmarks: s0.frames[0]!, width: s0.width, height: s0.height });
  const source = new ManualSource();
  const controller = new FaceMotionController({ source, retargeter, timing, seed: 3 });
  const neutral = new Float32Array(478 * 3);
  retargeter.project({ expression: new Float64Array(478 * 3), rotation: [1, 0, 0, 0], translation: [0, 0, 0], scaleRatio: 1, totalScaleRatio: 1, depthOffsetDelta: 0 }, neutral);
  return { retargeter, source, controller, neutral };
}

/** Mean landmark distance in pixels of the identity's image. */
function meanPx(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let p = 0; p < 478; p += 1) sum += Math.hypot((a[p * 3]! - b[p * 3]!) * s0.width, (a[p * 3 + 1]! - b[p * 3 + 1]!) * s0.height);
  return sum / 478;
}

describe('FaceMotionController', () => {
  it('calibrates first (idle face), then renders the newest motion retargeted onto the identity', () => {
    const { source, controller, retargeter } = setup();
    let t = 0;
    for (let i = 0; i < 12; i += 1, t += 40) {
      source.push(d10.frames[0]!, t, d10.width, d10.height);
      const { frame } = controller.tick(t);
      if (t < 400) expect(frame.state).toBe('calibrating');
    }
    source.push(d10.frames[120]!, t, d10.width, d10.height);
    const { landmarks, frame } = controller.tick(t + 5);
    expect(frame.state).toBe('live');
    const expected = new Float32Array(478 * 3);
    retargeter.retarget(d10.frames[120]!, d10.width, d10.height, expected);
    expect(meanPx(landmarks, expected)).toBeLessThan(1e-3);
  });

  it('holds the last pose when motion is late, eases back to neutral after a gap, and never freezes', () => {
    const { source, controller, neutral } = setup();
    let t = 0;
    for (let i = 0; i < 12; i += 1, t += 40) {
      source.push(d10.frames[0]!, t, d10.width, d10.height);
      controller.tick(t);
    }
    source.push(d10.frames[200]!, t, d10.width, d10.height);
    const live = Float32Array.from(controller.tick(t).landmarks);
    const lastMotion = t;
    const states: string[] = [];
    const toNeutral: number[] = [];
    const toLive: number[] = [];
    let previous = live;
    let frozen = 0;
    for (let age = 40; age <= 2000; age += 40) {
      const { landmarks, frame } = controller.tick(lastMotion + age);
      states.push(frame.state);
      toNeutral.push(meanPx(landmarks, neutral));
      toLive.push(meanPx(landmarks, live));
      if (meanPx(landmarks, previous) === 0 && age > timing.holdAfterMs) frozen += 1;
      previous = Float32Array.from(landmarks);
    }
    expect(states.slice(0, 3)).toEqual(['live', 'live', 'live']);
    expect(states).toContain('hold');
    expect(states).toContain('easing');
    expect(states.at(-1)).toBe('idle');
    // holding: still the live pose (idle sway only fading in)
    expect(toLive[4]!).toBeLessThan(1.5);
    // eased: back at neutral, up to idle motion (sway ≤ 1.5°, blinks)
    expect(toNeutral.at(-1)!).toBeLessThan(toNeutral[3]! / 3);
    // easing moves monotonically towards neutral (allowing the idle sway's wobble)
    const easing = toNeutral.slice(10, 25);
    for (let i = 1; i < easing.length; i += 1) expect(easing[i]!).toBeLessThanOrEqual(easing[i - 1]! + 0.5);
    expect(frozen).toBe(0);
  });

  it("voice-driven motion ('identity' space) is live while the source keeps making it, however old the voice behind it", () => {
    const { source, controller } = setup();
    const states: string[] = [];
    let t = 1000;
    for (let i = 0; i < 20; i += 1, t += 40) {
      // as AudioMotionSource: made now, from voice that arrived 250 ms ago (look-ahead, hop, inference)
      source.sample = { landmarks: s0.frames[i % s0.frames.length]!, imageWidth: s0.width, imageHeight: s0.height, captureTimeMs: t - 250, availableAtMs: t, seq: i + 1, space: 'identity' };
      const { frame } = controller.tick(t + 10);
      states.push(frame.state);
      expect(frame.motionAgeMs).toBe(260);
    }
    expect(new Set(states)).toEqual(new Set(['live']));
    // the source stops: hold, ease and idle, timed from when it last made motion
    const last = t - 40;
    expect(controller.tick(last + 200).frame.state).toBe('hold');
    expect(controller.tick(last + 2000).frame.state).toBe('idle');
  });
});
