import { describe, expect, it } from 'vitest';
import { TokenBucket } from './TokenBucket';

describe('TokenBucket', () => {
  it('allows a burst of `capacity` packets at once, then refuses', () => {
    const bucket = new TokenBucket({ ratePerSecond: 60, capacity: 10 });
    const taken = Array.from({ length: 15 }, () => bucket.tryTake(1000)).filter(Boolean).length;
    expect(taken).toBe(10);
  });

  it('sustains its rate and no more over a long flood', () => {
    const bucket = new TokenBucket({ ratePerSecond: 60, capacity: 10 });
    let taken = 0;
    // 10 s of a 1 kHz flood.
    for (let t = 0; t < 10_000; t += 1) if (bucket.tryTake(t)) taken += 1;
    expect(taken).toBeGreaterThanOrEqual(600);
    expect(taken).toBeLessThanOrEqual(611);
  });

  it('lets a well-behaved 30 packet/s stream through untouched', () => {
    const bucket = new TokenBucket({ ratePerSecond: 60, capacity: 10 });
    for (let i = 0; i < 300; i += 1) expect(bucket.tryTake(i * 33.3)).toBe(true);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 1 });
    expect(bucket.tryTake(5000)).toBe(true);
    expect(bucket.tryTake(0)).toBe(false);
    expect(bucket.tryTake(5000)).toBe(false);
    expect(bucket.tryTake(6000)).toBe(true);
  });

  it('refills at the sustained rate, never past its capacity, and says when the next token comes', () => {
    let now = 0;
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 3 });
    expect([bucket.tryTake(now), bucket.tryTake(now), bucket.tryTake(now), bucket.tryTake(now)]).toEqual([true, true, true, false]);
    expect(bucket.msUntilNextToken(now)).toBeCloseTo(100);
    now = 100;
    expect(bucket.tryTake(now)).toBe(true);
    expect(bucket.tryTake(now)).toBe(false);
    now = 10_000;
    // Never more than the capacity, however long it was idle.
    expect([bucket.tryTake(now), bucket.tryTake(now), bucket.tryTake(now), bucket.tryTake(now)]).toEqual([true, true, true, false]);
  });

  it('rejects nonsense settings', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, capacity: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 10, capacity: 0 })).toThrow(RangeError);
  });
});
