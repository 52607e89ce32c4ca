import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvelopeFollower, MouthEnvelope } from './MouthEnvelope';

/** Python's envelope.py on real speech (models/avatar_ml/audio/export_test_vectors.py). */
const vectors = JSON.parse(readFileSync(new URL('./testdata/envelopeVectors.json', import.meta.url), 'utf8'));

describe('MouthEnvelope (the twin of models/avatar_ml/audio/envelope.py)', () => {
  it('follows the loudness of real speech exactly as the Python envelope does', () => {
    const f = new EnvelopeFollower(vectors.params);
    const ys = (vectors.rms as number[]).map((r) => f.step(r));
    ys.forEach((y, i) => expect(y).toBeCloseTo(vectors.follower[i], 5));
    // silence before the speech keeps it closed; the speech opens it; the silence after closes it again
    expect(Math.max(...ys.slice(0, 20))).toBe(0);
    expect(Math.max(...ys)).toBeGreaterThan(0.8);
    expect(ys.at(-1)!).toBeLessThan(0.01);
  });

  it("fed each frame's lead RMS, it gives Python's envelope with its look-ahead", () => {
    const lead = vectors.params.lead_frames as number;
    const f = new EnvelopeFollower(vectors.params);
    const rms = vectors.rms as number[];
    for (let i = 0; i + lead < rms.length; i++) expect(f.step(rms[i + lead]!)).toBeCloseTo(vectors.envelope[i], 5);
  });

  it('mixes the inner-lip opening and keeps the rest of the shape as Python does', () => {
    const m = vectors.mix;
    const dir = Float32Array.from(m.direction as number[]);
    (m.delta as number[][]).forEach((d, k) => {
      const out = MouthEnvelope.mix(Float32Array.from(d), m.e[k], dir, m.full_gap_cm, m.weight, m.up, m.lo);
      out.forEach((v, i) => expect(v).toBeCloseTo(m.mixed[k][i], 4));
    });
  });

  it('rejects a drive that does not fit the mouth region', () => {
    const drive = { ...vectors.params, weight: 0.5, full_gap_cm: 1, open_direction: [0, 0, 0] };
    expect(() => new MouthEnvelope({ mouth_region: [13, 14] }, drive)).toThrow(/must have 6 numbers/);
    expect(() => new MouthEnvelope({ mouth_region: [1] }, drive)).toThrow(/inner-lip points/);
  });
});
