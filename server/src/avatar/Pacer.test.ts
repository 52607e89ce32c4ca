import { describe, expect, it } from 'vitest';
import { Pacer, type PacerClock, type PacerTick } from './Pacer';

/** A manual clock: timers fire when `advance` passes their due time. */
function fakeClock() {
  let now = 0;
  let timers: { due: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const clock: PacerClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ due: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number, stallMs = 0) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.due - b.due);
      const next = timers[0];
      if (!next || next.due > end) break;
      timers.shift();
      now = Math.max(now, next.due) + stallMs;
      next.fn();
    }
    now = end;
  };
  return { clock, advance, setNow: (t: number) => (now = t) };
}

describe('Pacer', () => {
  it('ticks at the configured rate on absolute deadlines without drift', () => {
    const { clock, advance } = fakeClock();
    const ticks: PacerTick[] = [];
    const pacer = new Pacer({ fps: 25, clock, onTick: (t) => ticks.push(t) });
    pacer.start();
    advance(10_000);
    expect(ticks.length).toBe(250);
    expect(ticks.at(-1)!.dueMs).toBeCloseTo(10_000, 6);
    expect(ticks.every((t) => t.skipped === 0 && t.lateMs === 0)).toBe(true);
    pacer.stop();
  });

  it('skips the ticks missed during a stall instead of firing them in a burst, and counts them', () => {
    const { clock, advance, setNow } = fakeClock();
    const ticks: PacerTick[] = [];
    const pacer = new Pacer({ fps: 25, clock, onTick: (t) => ticks.push(t) });
    pacer.start();
    advance(400);
    const before = ticks.length;
    setNow(400 + 200); // the event loop was blocked for 200 ms
    advance(1);
    expect(ticks.length - before).toBe(1);
    expect(ticks.at(-1)!.skipped).toBe(4);
    expect(pacer.skippedTicks).toBe(4);
    advance(400);
    expect(ticks.length - before).toBe(11);
    pacer.stop();
  });

  it('moves its phase by at most a quarter period per nudge, keeping the rate', () => {
    const { clock, advance } = fakeClock();
    const ticks: PacerTick[] = [];
    const pacer = new Pacer({ fps: 25, clock, onTick: (t) => ticks.push(t) });
    pacer.start();
    advance(100);
    pacer.nudge(-100);
    advance(1000);
    const due = ticks.map((t) => t.dueMs);
    expect(due[1]! - due[0]!).toBe(40);
    expect(due[2]! - due[1]!).toBe(30); // shifted 10 ms earlier (40 / 4)
    expect(due[3]! - due[2]!).toBe(40);
    pacer.stop();
  });
});
