import { describe, expect, it } from 'vitest';
import { CaptureClock } from './CaptureClock';

const clock = (warmupPackets = 0) =>
  new CaptureClock({ maxFutureMs: 200, maxAgeMs: 1000, resyncAfter: 5, staleResyncAfter: 10, warmupPackets, warmupSlackMs: 2000 });

describe('CaptureClock', () => {
  it('anchors on the first packet and maps capture times onto the local clock', () => {
    const c = clock();
    expect(c.toLocalMs(0)).toBeUndefined();
    expect(c.observe(1_000, 51_000)).toBe('ok');
    expect(c.toLocalMs(1_033)).toBe(51_033);
  });

  it('tightens the anchor when a faster packet arrives', () => {
    const c = clock();
    c.observe(1_000, 51_040);
    expect(c.observe(1_033, 51_043)).toBe('ok');
    expect(c.toLocalMs(1_033)).toBe(51_043);
  });

  it('lets a slow first packet be corrected during warm-up', () => {
    const c = clock(10);
    // The tracker's first frame took 560 ms; the next ones take 30 ms.
    expect(c.observe(1_000, 51_560)).toBe('ok');
    expect(c.observe(1_033, 51_063)).toBe('ok');
    expect(c.toLocalMs(1_033)).toBe(51_063);
    // ...but not by more than the warm-up slack.
    expect(c.observe(900_000, 51_100)).toBe('future');
  });

  it('refuses a packet whose capture time lies in the future', () => {
    const c = clock();
    c.observe(1_000, 51_000);
    expect(c.observe(10_000, 51_050)).toBe('future');
    expect(c.toLocalMs(1_000)).toBe(51_000);
  });

  it('refuses a packet captured too long ago', () => {
    const c = clock();
    c.observe(1_000, 51_000);
    expect(c.observe(1_033, 53_000)).toBe('stale');
  });

  it('re-anchors after a short run of consistent "future" packets (the sender clock jumped ahead)', () => {
    const c = clock();
    c.observe(1_000, 51_000);
    const verdicts = Array.from({ length: 8 }, (_, i) => c.observe(600_000 + i * 33, 51_033 + i * 33 + (i % 2) * 20));
    expect(verdicts).toEqual(['future', 'future', 'future', 'future', 'future', 'ok', 'ok', 'ok']);
    expect(c.resyncs).toBe(1);
  });

  it('re-anchors after a longer run of consistent stale packets (a forged first packet set the anchor)', () => {
    const c = clock();
    c.observe(900_000, 51_000);
    const verdicts = Array.from({ length: 13 }, (_, i) => c.observe(1_000 + i * 33, 51_100 + i * 33 + (i % 2) * 20));
    expect(verdicts.slice(0, 10)).toEqual(Array(10).fill('stale'));
    expect(verdicts.slice(10)).toEqual(['ok', 'ok', 'ok']);
    expect(c.resyncs).toBe(1);
  });

  it('keeps its anchor through a backlog flushed after a stall', () => {
    const c = clock();
    for (let i = 0; i < 10; i += 1) c.observe(1_000 + i * 40, 51_030 + i * 40);
    // A 1.5 s stall: 38 frames captured meanwhile arrive at once, then the stream is normal again.
    const backlog = Array.from({ length: 38 }, (_, i) => c.observe(1_400 + i * 40, 52_950));
    expect(backlog.filter((v) => v === 'stale').length).toBeGreaterThan(0);
    expect(c.resyncs).toBe(0);
    expect(c.observe(2_960, 52_990)).toBe('ok');
  });

  it('does not re-anchor on a run of mutually inconsistent packets', () => {
    const c = clock();
    c.observe(1_000, 51_000);
    for (let i = 0; i < 20; i += 1) c.observe(1_000 + (i % 2 === 0 ? 1e6 : -1e6) * (i + 1), 51_000 + i);
    expect(c.resyncs).toBe(0);
    expect(c.observe(1_700, 51_700)).toBe('ok');
  });

  it('treats non-finite times as stale', () => {
    const c = clock();
    expect(c.observe(Number.NaN, 1)).toBe('stale');
  });
});
