import { describe, expect, it } from 'vitest';
import { decodeMotionPacket } from './decodeMotionPacket';
import { loadMotionBasis } from './motionBasis';
import { LANDMARK_COUNT, MAX_MOTION_PACKET_BYTES, MOTION_PACKET_VERSION } from './motionConstants';
import { MotionEncoder } from './MotionEncoder';
import type { MotionDecodeResult } from './motionTypes';
import { motionFixtures } from './testdata/motionFixtures';
import { seededRandom } from '../seededRandom';
import { randomValidPacket } from './motionFuzz';

const basis = loadMotionBasis();
const ERRORS = new Set(['bad_type', 'truncated', 'oversized', 'bad_version', 'bad_basis', 'bad_length', 'bad_value']);

function checkResult(r: MotionDecodeResult) {
  if (r.ok) {
    expect(r.frame.landmarks.length).toBe(LANDMARK_COUNT * 3);
    for (const v of r.frame.landmarks) if (!Number.isFinite(v)) throw new Error('non-finite landmark in an ok result');
  } else {
    expect(ERRORS.has(r.error)).toBe(true);
  }
}

describe('motion packet fuzz', () => {
  it('never throws on 10,000 random byte strings', () => {
    const rand = seededRandom(1);
    let ok = 0;
    for (let i = 0; i < 10_000; i++) {
      const len = Math.floor(rand() * (MAX_MOTION_PACKET_BYTES + 40));
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rand() * 256);
      // Half of them get a plausible header so they reach the deeper checks.
      if (i % 2 && len > 1) {
        bytes[0] = MOTION_PACKET_VERSION;
        bytes[1] = basis.id;
      }
      const r = decodeMotionPacket(bytes, basis);
      checkResult(r);
      if (r.ok) ok++;
    }
    expect(ok).toBeLessThan(10_000);
  });

  it('never throws on 10,000 mutated real packets (bit flips, truncation, extension, splices)', () => {
    const rand = seededRandom(2);
    const encoder = new MotionEncoder(basis);
    const seeds = motionFixtures.samples.map((s) => encoder.encode(s));
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      let p = Uint8Array.from(seeds[i % seeds.length]!);
      const kind = i % 4;
      if (kind === 0) {
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips; f++) {
          const bit = Math.floor(rand() * p.length * 8);
          p[bit >> 3]! ^= 1 << (bit & 7);
        }
      } else if (kind === 1) {
        p = p.subarray(0, Math.floor(rand() * p.length));
      } else if (kind === 2) {
        const q = new Uint8Array(p.length + 1 + Math.floor(rand() * 100));
        q.set(p);
        p = q;
      } else {
        const other = seeds[Math.floor(rand() * seeds.length)]!;
        const cut = Math.floor(rand() * p.length);
        p.set(other.subarray(cut), cut);
        p[Math.floor(rand() * p.length)] = Math.floor(rand() * 256);
      }
      const r = decodeMotionPacket(p, basis);
      checkResult(r);
      const key = r.ok ? 'ok' : r.error;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // The mutations reach every structural check, and many flipped packets still decode.
    for (const e of ['truncated', 'oversized', 'bad_length', 'ok']) expect(counts.get(e) ?? 0, e).toBeGreaterThan(0);
  });

  it('decodes 2,000 random well-formed packets to finite landmarks', () => {
    const rand = seededRandom(3);
    for (let i = 0; i < 2_000; i++) {
      const r = decodeMotionPacket(randomValidPacket(basis, rand), basis);
      expect(r.ok).toBe(true);
      checkResult(r);
    }
  });
});
