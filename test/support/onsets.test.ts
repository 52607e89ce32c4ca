import { describe, expect, it } from 'vitest';
import { onsets, pairedLags } from './onsets';

/** Bursts of `level` starting at `starts` (ms), `len` ms long, sampled every `step` ms. */
function bursts(starts: number[], len: number, step: number, end: number, level = 1, phase = 0) {
  const out = [];
  for (let t = phase; t < end; t += step) out.push({ t, v: starts.some((s) => t >= s && t < s + len) ? level : 0.01 });
  return out;
}

describe('onsets', () => {
  it('finds each rise after a quiet stretch, interpolated between samples', () => {
    const audio = bursts([1000, 4000, 7000], 1500, 10, 9000);
    expect(onsets(audio, { fraction: 0.1, minQuietMs: 800 }).map(Math.round)).toEqual([991, 3991, 6991]);
    // 40 ms frames, phase 13 ms: onsets land within one frame period before the true rise
    const mouth = bursts([1080, 4080, 7080], 1500, 40, 9000, 1, 13);
    for (const t of onsets(mouth, { fraction: 0.25, minQuietMs: 600 })) expect([1080, 4080, 7080].some((s) => t > s - 40 && t <= s)).toBe(true);
  });

  it('ignores rises without a quiet stretch before them, and flat series', () => {
    const flicker = bursts([1000, 1300, 1600], 200, 10, 3000);
    expect(onsets(flicker, { fraction: 0.5, minQuietMs: 500 })).toHaveLength(1);
    expect(onsets([{ t: 0, v: 1 }, { t: 10, v: 1 }], { fraction: 0.5, minQuietMs: 0 })).toEqual([]);
  });

  it('pairs each reference onset with the first other onset inside the lag window', () => {
    expect(pairedLags([1000, 4000, 7000], [1090, 4030, 9000], -300, 500)).toEqual([90, 30]);
    expect(pairedLags([1000], [700, 1600], -300, 500)).toEqual([-300]);
  });
});
