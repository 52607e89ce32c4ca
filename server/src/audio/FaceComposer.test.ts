import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaceComposer } from './FaceComposer';
import { fitSimilarity } from './similarityFit';

/** Python's mouth_space on RD_Radio2 frame 0 (models/avatar_ml/audio/export_test_vectors.py). */
const vectors = JSON.parse(readFileSync(new URL('./testdata/composeVectors.json', import.meta.url), 'utf8')) as {
  mouth_region: number[]; rigid_landmarks: number[]; canonical_rigid: [number, number, number][];
  imageWidth: number; imageHeight: number; reference: number[]; referenceRegion: number[]; delta: number[];
  composed: number[];
};
const make = () => new FaceComposer(Float32Array.from(vectors.reference), vectors.imageWidth, vectors.imageHeight, vectors);
const pose = { blink: 0, gazeX: 0, gazeY: 0, yaw: 0, pitch: 0, roll: 0 };

describe('FaceComposer', () => {
  it('fits the canonical frame like Python: same reference mouth and the same composed mouth', () => {
    const c = make();
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    expect(maxDiff(c.referenceRegion, vectors.referenceRegion)).toBeLessThan(1e-3); // canonical cm
    const out = c.compose(Float32Array.from(vectors.delta), undefined);
    expect(maxDiff(out, vectors.composed) * vectors.imageWidth).toBeLessThan(0.01); // px
    // the jaw-drop delta opens the mouth
    const open = (l: ArrayLike<number>) => FaceComposer.mouthOpening(Float32Array.from(l), 512, 512);
    expect(open(out)).toBeGreaterThan(open(vectors.reference) + 0.05);
  });

  it('no delta and a neutral pose reproduce the reference', () => {
    const out = make().compose(undefined, pose);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i]! - vectors.reference[i]!)).toBeLessThan(1e-6);
  });

  it('blink shuts the upper lids onto the lower ones; gaze moves only the irises; head turns rotate rigidly', () => {
    const c = make();
    const ref = vectors.reference;
    const shut = c.compose(undefined, { ...pose, blink: 1 });
    const y = (l: ArrayLike<number>, i: number) => l[3 * i + 1]! * 512;
    expect(Math.abs(y(ref, 159) - y(ref, 145))).toBeGreaterThan(3);
    expect(Math.abs(y(shut, 159) - y(shut, 145))).toBeLessThan(0.5);
    expect(Math.abs(y(shut, 386) - y(shut, 374))).toBeLessThan(0.5);
    const gazed = c.compose(undefined, { ...pose, gazeX: 0.1 });
    expect(gazed[3 * 468]! * 512 - ref[3 * 468]! * 512).toBeGreaterThan(1);
    expect(gazed[3 * 1]).toBeCloseTo(ref[3 * 1]!, 6);
    const turned = c.compose(undefined, { ...pose, yaw: 0.05, pitch: 0.03, roll: 0.02 });
    const src: number[] = [];
    const dst: number[] = [];
    for (let i = 0; i < 468; i++) {
      src.push(ref[3 * i]! * 512, ref[3 * i + 1]! * 512, ref[3 * i + 2]! * 512);
      dst.push(turned[3 * i]! * 512, turned[3 * i + 1]! * 512, turned[3 * i + 2]! * 512);
    }
    const fit = fitSimilarity(src, dst);
    expect(fit.scale).toBeCloseTo(1, 6);
    const angle = Math.acos(Math.min(1, (fit.rotation[0]! + fit.rotation[4]! + fit.rotation[8]! - 1) / 2));
    expect(angle).toBeGreaterThan(0.05);
    expect(angle).toBeLessThan(0.07);
  });

  it("puts the voice's mouth on another face of the identity, carried by that face's head pose; nothing else moves", () => {
    const c = make();
    const w = vectors.imageWidth;
    const h = vectors.imageHeight;
    // "Camera" face: the reference turned, scaled and moved (a similarity in pixels), eyes shut.
    const angle = 0.2;
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const move = (l: ArrayLike<number>): Float32Array => {
      const out = new Float32Array(l.length);
      for (let i = 0; i < l.length / 3; i++) {
        const x = l[3 * i]! * w, y = l[3 * i + 1]! * h, z = l[3 * i + 2]! * w;
        out[3 * i] = (1.1 * (cos * x - sin * y) + 30) / w;
        out[3 * i + 1] = (1.1 * (sin * x + cos * y) - 12) / h;
        out[3 * i + 2] = (1.1 * z) / w;
      }
      return out;
    };
    const face = move(c.compose(undefined, { ...pose, blink: 1 }));
    const delta = Float32Array.from(vectors.delta);
    const out = c.mouthOnto(face, delta);
    // the mouth region is exactly the composed (open) mouth moved like the face
    const expected = move(c.compose(delta, undefined));
    const region = new Set(vectors.mouth_region);
    let regionErr = 0;
    let otherErr = 0;
    for (let i = 0; i < out.length; i++) {
      const err = Math.abs(out[i]! - (region.has(Math.floor(i / 3)) ? expected[i]! : face[i]!)) * w;
      if (region.has(Math.floor(i / 3))) regionErr = Math.max(regionErr, err);
      else otherErr = Math.max(otherErr, err);
    }
    expect(regionErr).toBeLessThan(0.05); // px
    expect(otherErr).toBe(0); // the eyes stay shut, the head where the camera put it
    const open = (l: Float32Array) => FaceComposer.mouthOpening(l, w, h);
    expect(open(out)).toBeGreaterThan(open(face) + 0.05);
    // no delta: the rest mouth on the moved face
    const rest = c.mouthOnto(face, undefined);
    expect(Math.abs(open(rest) - open(move(Float32Array.from(vectors.reference))))).toBeLessThan(1e-3);
  });

  it('refuses a malformed reference', () => {
    expect(() => new FaceComposer(new Float32Array(10), 512, 512, vectors)).toThrow(/1434 finite/);
  });
});
