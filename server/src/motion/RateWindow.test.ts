import { describe, expect, it } from 'vitest';
import { RateWindow } from './RateWindow';

describe('RateWindow', () => {
  it('reports kbit/s of a steady stream over its window', () => {
    const rate = new RateWindow(2000, 20);
    // 64-byte packets at 30/s for 3 s: 15.36 kbit/s.
    for (let i = 0; i < 90; i += 1) rate.add(i * (1000 / 30), 64);
    expect(rate.kbps(3000)).toBeCloseTo(15.36, 0);
  });

  it('reports any count per second (frames at 25/s)', () => {
    const rate = new RateWindow(2000, 20);
    for (let i = 0; i < 75; i += 1) rate.add(i * 40, 1);
    expect(rate.perSecond(3000)).toBeCloseTo(25, 0);
  });

  it('forgets what is older than the window and reports zero after silence', () => {
    const rate = new RateWindow(2000, 20);
    rate.add(0, 10_000);
    expect(rate.kbps(150)).toBeGreaterThan(0);
    expect(rate.kbps(5000)).toBe(0);
  });
});
