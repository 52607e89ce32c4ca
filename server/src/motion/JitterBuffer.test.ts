import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './JitterBuffer';

const entry = (seq: number, localCaptureMs: number, arrivalMs = localCaptureMs) => ({
  frame: { seq },
  localCaptureMs,
  arrivalMs,
});

describe('JitterBuffer', () => {
  it('holds frames for the target delay, then plays them out in capture order', () => {
    const buffer = new JitterBuffer<{ seq: number }>({ targetDelayMs: 60, capacity: 16 });
    expect(buffer.insert(entry(2, 1066))).toBe('ok');
    expect(buffer.insert(entry(0, 1000))).toBe('ok');
    expect(buffer.insert(entry(1, 1033))).toBe('ok');
    expect(buffer.nextDueMs()).toBe(1060);
    expect(buffer.popDue(1059)).toEqual([]);
    expect(buffer.popDue(1100).map((e) => e.frame.seq)).toEqual([0, 1]);
    expect(buffer.popDue(1200).map((e) => e.frame.seq)).toEqual([2]);
    expect(buffer.nextDueMs()).toBeUndefined();
  });

  it('refuses a frame captured before one already played', () => {
    const buffer = new JitterBuffer<{ seq: number }>({ targetDelayMs: 60, capacity: 16 });
    buffer.insert(entry(1, 1033));
    buffer.popDue(2000);
    expect(buffer.insert(entry(0, 1000, 1500))).toBe('late');
    expect(buffer.insert(entry(2, 1066, 1500))).toBe('ok');
  });

  it('refuses frames beyond its capacity', () => {
    const buffer = new JitterBuffer<{ seq: number }>({ targetDelayMs: 60, capacity: 2 });
    buffer.insert(entry(0, 1000));
    buffer.insert(entry(1, 1033));
    expect(buffer.insert(entry(2, 1066))).toBe('overflow');
  });

  it('forgets its frames and playout position on reset', () => {
    const buffer = new JitterBuffer<{ seq: number }>({ targetDelayMs: 60, capacity: 4 });
    buffer.insert(entry(5, 5000));
    buffer.popDue(6000);
    buffer.insert(entry(6, 5033));
    expect(buffer.reset()).toBe(1);
    expect(buffer.insert(entry(0, 1000))).toBe('ok');
  });
});
