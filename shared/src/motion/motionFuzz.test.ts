import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seededRandom';
import { fuzzMessage } from './motionFuzz';

describe('motion fuzz generator', () => {
  it('is reproducible from its seed', () => {
    const template = new Uint8Array(64).fill(7);
    const run = (seed: number) => Array.from({ length: 50 }, ((r) => () => fuzzMessage(r, [template], 128))(seededRandom(seed)));
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('produces every kind of hostile message without touching its templates', () => {
    const template = new Uint8Array(64).fill(7);
    template[0] = 1;
    const random = seededRandom(99);
    const messages = Array.from({ length: 2000 }, () => fuzzMessage(random, [template], 128));
    const binary = messages.filter((m): m is Uint8Array => typeof m !== 'string');
    expect(messages.some((m) => typeof m === 'string')).toBe(true);
    expect(binary.some((m) => m.length === 0)).toBe(true);
    expect(binary.some((m) => m.length > 128)).toBe(true);
    expect(binary.some((m) => m.length > 0 && m.length < 13)).toBe(true);
    expect(binary.some((m) => m.length === 64 && m[0] !== 1)).toBe(true);
    expect(template.every((v, i) => v === (i === 0 ? 1 : 7))).toBe(true);
  });
});
