import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Retargeter } from './retarget';

type Case = {
  name: string;
  driverSize: [number, number];
  targetSize: [number, number];
  expressionGain: number;
  driverNeutral: number[];
  driverFrames: number[][];
  target: number[];
  expected: number[][];
};

const vectors = JSON.parse(readFileSync(new URL('./testdata/retargetVectors.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** Largest x/y difference in pixels of the identity's image. */
function maxPixelError(actual: Float32Array, expected: number[], width: number, height: number): number {
  let worst = 0;
  for (let p = 0; p < 478; p += 1) {
    worst = Math.max(
      worst,
      Math.abs((actual[p * 3] as number) - (expected[p * 3] as number)) * width,
      Math.abs((actual[p * 3 + 1] as number) - (expected[p * 3 + 1] as number)) * height,
    );
  }
  return worst;
}

describe('Retargeter (parity with models/avatar_ml/landmarks/retarget.py)', () => {
  for (const c of vectors.cases) {
    it(`reproduces the Python output within 0.05 px: ${c.name}`, () => {
      const [tw, th] = c.targetSize;
      const [dw, dh] = c.driverSize;
      const retargeter = new Retargeter({ landmarks: c.target, width: tw, height: th }, { expressionGain: c.expressionGain });
      retargeter.setDriverNeutral(retargeter.lift(c.driverNeutral, dw, dh));
      const out = new Float32Array(478 * 3);
      c.driverFrames.forEach((frame, i) => {
        retargeter.retarget(frame, dw, dh, out);
        expect(maxPixelError(out, c.expected[i] as number[], tw, th)).toBeLessThanOrEqual(0.05);
      });
    });
  }

  it('reproduces the driver itself when the identity is the driver at its neutral', () => {
    const c = vectors.cases.find((x) => x.name.includes('itself')) as Case;
    const [w, h] = c.driverSize;
    const retargeter = new Retargeter({ landmarks: c.driverNeutral, width: w, height: h });
    retargeter.setDriverNeutral(retargeter.lift(c.driverNeutral, w, h));
    const out = new Float32Array(478 * 3);
    for (const frame of c.driverFrames) {
      retargeter.retarget(frame, w, h, out);
      expect(maxPixelError(out, frame, w, h)).toBeLessThanOrEqual(0.05);
    }
  });

  it('refuses to retarget before a neutral is set', () => {
    const c = vectors.cases[0] as Case;
    const retargeter = new Retargeter({ landmarks: c.target, width: c.targetSize[0], height: c.targetSize[1] });
    expect(() => retargeter.retarget(c.driverNeutral, 512, 512, new Float32Array(478 * 3))).toThrow(/neutral/);
  });
});
