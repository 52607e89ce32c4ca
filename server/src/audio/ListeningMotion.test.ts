import { describe, expect, it } from 'vitest';
import { ListeningMotion } from './ListeningMotion';

function simulate(seed: number, minutes: number, energy: (t: number) => number) {
  const m = new ListeningMotion(seed, 0);
  const poses = [];
  for (let t = 0; t < minutes * 60_000; t += 20) poses.push({ t, e: energy(t), ...m.sample(t, energy(t), energy(t) > 0) });
  return { m, poses };
}

describe('ListeningMotion', () => {
  it('blinks 15-20 times a minute with natural durations, over several seeds', () => {
    for (const seed of [1, 2, 3, 4]) {
      const { m, poses } = simulate(seed, 10, () => 0);
      const perMin = m.blinksStarted(10 * 60_000) / 10;
      expect(perMin).toBeGreaterThanOrEqual(15);
      expect(perMin).toBeLessThanOrEqual(20);
      // durations of closed-ish stretches (blink > 0.05), ms
      const durations: number[] = [];
      let start = -1;
      for (const p of poses) {
        if (p.blink > 0.05 && start < 0) start = p.t;
        if (p.blink <= 0.05 && start >= 0) {
          durations.push(p.t - start);
          start = -1;
        }
      }
      const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
      expect(mean).toBeGreaterThan(180);
      expect(mean).toBeLessThan(420);
      expect(Math.max(...poses.map((p) => p.blink))).toBeCloseTo(1, 5);
    }
  });

  it('counts the blinks begun by a time: each onset of the eyelids closing, none still to come', () => {
    const m = new ListeningMotion(3, 0);
    let onsets = 0;
    let previous = 0;
    for (let t = 0; t < 120_000; t += 10) {
      const { blink } = m.sample(t, 0, false);
      if (blink > 0 && previous === 0) onsets += 1;
      previous = blink;
      if (t % 10_000 === 0) expect(Math.abs(m.blinksStarted(t) - onsets)).toBeLessThanOrEqual(1);
    }
    expect(onsets).toBeGreaterThan(20);
    expect(Math.abs(m.blinksStarted(119_990) - onsets)).toBeLessThanOrEqual(1);
  });

  it('sways slowly within a few degrees and moves the gaze in saccades', () => {
    const { poses } = simulate(5, 3, () => 0);
    const deg = (r: number) => (r * 180) / Math.PI;
    expect(Math.max(...poses.map((p) => Math.abs(deg(p.yaw))))).toBeLessThan(4);
    expect(Math.max(...poses.map((p) => Math.abs(deg(p.pitch))))).toBeLessThan(3);
    const yawSpan = Math.max(...poses.map((p) => p.yaw)) - Math.min(...poses.map((p) => p.yaw));
    expect(deg(yawSpan)).toBeGreaterThan(0.5);
    // slow: the largest step between 20 ms samples is tiny
    const steps = poses.slice(1).map((p, i) => Math.abs(p.yaw - poses[i]!.yaw));
    expect(deg(Math.max(...steps))).toBeLessThan(0.05);
    const jumps = poses.slice(1).filter((p, i) => Math.hypot(p.gazeX - poses[i]!.gazeX, p.gazeY - poses[i]!.gazeY) > 0.01);
    expect(jumps.length).toBeGreaterThan(20);
    expect(Math.max(...poses.map((p) => Math.abs(p.gazeX)))).toBeLessThanOrEqual(0.12);
  });

  it('nods with speech energy: pitch correlates with syllable bursts', () => {
    // 4 Hz syllables during speech, silence otherwise
    const energy = (t: number) => (Math.floor(t / 3000) % 2 === 0 ? Math.max(0, Math.sin((2 * Math.PI * 4 * t) / 1000)) : 0);
    const speech = simulate(9, 1, energy).poses;
    const silent = simulate(9, 1, () => 0).poses;
    const diff = speech.map((p, i) => p.pitch - silent[i]!.pitch);
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const speaking = diff.filter((_, i) => Math.floor(speech[i]!.t / 3000) % 2 === 0);
    const quiet = diff.filter((_, i) => Math.floor(speech[i]!.t / 3000) % 2 === 1);
    // nods only go chin-down and only with speech (sway is also livelier then, but averages out)
    expect(mean(speaking) - mean(quiet)).toBeGreaterThan((0.5 * Math.PI) / 180);
    expect(Math.max(...speaking)).toBeGreaterThan((1 * Math.PI) / 180);
    // no nod at all without speech
    const silentNod = silent.map((p, i) => p.pitch - simulate(9, 1, () => 0).poses[i]!.pitch);
    expect(Math.max(...silentNod.map(Math.abs))).toBe(0);
  });
});
