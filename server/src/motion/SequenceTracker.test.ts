import { describe, expect, it } from 'vitest';
import { SequenceTracker } from './SequenceTracker';

const tracker = () => new SequenceTracker({ modulus: 65536, maxDropout: 3000, duplicateWindow: 256 });

describe('SequenceTracker', () => {
  it('counts nothing lost for an in-order stream', () => {
    const t = tracker();
    for (let s = 100; s < 200; s += 1) expect(t.accept(s)).toBe('ok');
    expect(t.expected).toBe(100);
    expect(t.lost).toBe(0);
  });

  it('counts the gaps of a lossy stream and tolerates reordering', () => {
    const t = tracker();
    for (const s of [0, 1, 3, 2, 5, 9, 8]) expect(t.accept(s)).toBe('ok');
    expect(t.expected).toBe(10);
    expect(t.received).toBe(7);
    expect(t.lost).toBe(3);
  });

  it('follows the sequence number across its wrap', () => {
    const t = tracker();
    for (let i = 0; i < 20; i += 1) expect(t.accept((65530 + i) % 65536)).toBe('ok');
    expect(t.expected).toBe(20);
    expect(t.lost).toBe(0);
  });

  it('refuses duplicates without counting them as received', () => {
    const t = tracker();
    expect(t.accept(7)).toBe('ok');
    expect(t.accept(8)).toBe('ok');
    expect(t.accept(7)).toBe('duplicate');
    expect(t.received).toBe(2);
  });

  it('refuses a single forged jump but follows a confirmed restart', () => {
    const t = tracker();
    for (let s = 0; s < 10; s += 1) t.accept(s);
    expect(t.accept(40_000)).toBe('seq_jump');
    expect(t.accept(10)).toBe('ok');
    expect(t.lost).toBe(0);
    expect(t.accept(50_000)).toBe('seq_jump');
    expect(t.accept(50_001)).toBe('ok');
    expect(t.accept(50_002)).toBe('ok');
    expect(t.expected).toBe(2);
    expect(t.lostTotal).toBe(0);
  });

  it('refuses sequence numbers outside the field', () => {
    const t = tracker();
    expect(t.accept(-1)).toBe('seq_jump');
    expect(t.accept(65536)).toBe('seq_jump');
    expect(t.accept(1.5)).toBe('seq_jump');
  });
});
