import { describe, expect, it } from 'vitest';
import { IdleMotion } from './IdleMotion';

/** Runs idle motion at 25 fps for `minutes` and measures blinks as seen in rendered frames. */
function observe(seed: number, minutes: number) {
  const idle = new IdleMotion({ blinksPerMinute: [12, 20], blinkDurationMs: [120, 300], seed });
  const frameMs = 40;
  const durations: number[] = [];
  let closedSince: number | undefined;
  let maxYaw = 0;
  let motionFrames = 0;
  let last = idle.sample(0);
  for (let t = frameMs; t <= minutes * 60_000; t += frameMs) {
    const pose = idle.sample(t);
    if (pose.blink > 0 && closedSince === undefined) closedSince = t;
    if (pose.blink === 0 && closedSince !== undefined) {
      durations.push(t - closedSince);
      closedSince = undefined;
    }
    maxYaw = Math.max(maxYaw, Math.abs(pose.yaw));
    if (pose.yaw !== last.yaw || pose.pitch !== last.pitch || pose.blink !== last.blink) motionFrames += 1;
    last = pose;
  }
  return { durations, perMinute: durations.length / minutes, maxYaw, motionFrames, total: (minutes * 60_000) / frameMs, idle };
}

describe('IdleMotion', () => {
  it('blinks 10–25 times a minute, each blink 100–400 ms, seen at 25 fps over 10 minutes', () => {
    for (const seed of [1, 2, 3]) {
      const { durations, perMinute, idle } = observe(seed, 10);
      expect(perMinute).toBeGreaterThanOrEqual(10);
      expect(perMinute).toBeLessThanOrEqual(25);
      expect(idle.blinks).toBe(durations.length);
      // frame-quantised: a blink is visible for its duration rounded to 40 ms frames
      for (const d of durations) {
        expect(d).toBeGreaterThanOrEqual(100 - 40);
        expect(d).toBeLessThanOrEqual(400);
      }
      const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
      expect(mean).toBeGreaterThan(120);
      expect(mean).toBeLessThan(300);
    }
  });

  it('moves the head slightly and never stands still', () => {
    const { maxYaw, motionFrames, total } = observe(7, 1);
    expect(maxYaw).toBeGreaterThan(0.3 * (Math.PI / 180));
    expect(maxYaw).toBeLessThanOrEqual(1.5 * (Math.PI / 180));
    expect(motionFrames).toBe(total);
  });

  it('is deterministic for a seed', () => {
    const a = observe(5, 1).durations;
    const b = observe(5, 1).durations;
    expect(a).toEqual(b);
  });
});
