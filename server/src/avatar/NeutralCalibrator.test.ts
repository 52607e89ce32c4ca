import { describe, expect, it } from 'vitest';
import { loadMotionLibraryTrack } from '../../../test/support/motionLibraryTrack';
import { metricMouthGap, NeutralCalibrator } from './NeutralCalibrator';
import { Retargeter } from './retarget/retarget';
import type { MetricFace } from './retarget/faceGeometry';

const d10 = loadMotionLibraryTrack('d10');
const s0 = loadMotionLibraryTrack('s0');
const retargeter = new Retargeter({ landmarks: s0.frames[0]!, width: s0.width, height: s0.height });
const faces: MetricFace[] = d10.frames.slice(0, 360).map((l) => retargeter.lift(l, d10.width, d10.height));
const byGap = faces.map((face, i) => ({ i, gap: metricMouthGap(face.metric) })).sort((a, b) => a.gap - b.gap);
/** d10 talks: its lips are closed (gap ≤ 0.01 face heights) only around frame 0. */
const closed = byGap.filter((f) => f.gap <= 0.01).map((f) => faces[f.i]!);
const open = byGap.filter((f) => f.gap >= 0.07).map((f) => faces[f.i]!);

/** Calibrates on `frames`: 11, one every 40 ms, make the 400 ms calibration. */
function calibrated(frames: MetricFace[]): NeutralCalibrator {
  expect(frames).toHaveLength(11);
  const calibrator = new NeutralCalibrator({ calibrationMs: 400, minFrames: 5 });
  frames.forEach((face, k) => calibrator.add(face, k * 40));
  expect(calibrator.calibrated).toBe(true);
  return calibrator;
}

/** Signed inner-lip gap over face height of identity landmarks: < 0 when the lips cross. */
function signedGap(l: Float32Array): number {
  return ((l[14 * 3 + 1]! - l[13 * 3 + 1]!) * s0.height) / (Math.hypot((l[10 * 3]! - l[152 * 3]!) * s0.width, (l[10 * 3 + 1]! - l[152 * 3 + 1]!) * s0.height));
}

describe('NeutralCalibrator', () => {
  it('has closed and open mouths to work with in the d10 track', () => {
    expect(closed.length).toBeGreaterThanOrEqual(3);
    expect(open.length).toBeGreaterThanOrEqual(20);
  });

  it("takes the neutral's shape from the calibration frames with the least open mouth", () => {
    // a driver talking while calibrating: 8 open frames and 3 closed ones (the least open quarter)
    const frames = [...open.slice(0, 8), ...closed.slice(0, 3)];
    const calibrator = calibrated(frames);
    const mean = closed.slice(0, 3).reduce((s, f) => s + metricMouthGap(f.metric), 0) / 3;
    expect(calibrator.neutralMouthGap).toBeCloseTo(mean, 3);
    // the pose still averages every calibration frame
    const meanScale = frames.reduce((s, f) => s + f.totalScale, 0) / frames.length;
    expect(calibrator.neutral!.totalScale).toBeCloseTo(meanScale, 9);
  });

  it('moves the neutral quickly toward a more closed mouth seen later, never toward a much more open one', () => {
    const calibrator = calibrated(open.slice(0, 11));
    const start = calibrator.neutralMouthGap;
    expect(start).toBeGreaterThan(0.06);
    const wider = open.filter((f) => metricMouthGap(f.metric) > start + 0.01);
    expect(wider.length).toBeGreaterThan(5);
    for (const face of wider) expect(calibrator.add(face, 1000)).toBe(false);
    expect(calibrator.neutralMouthGap).toBe(start);
    // weight 1/8 each: 20 closed frames (those within 12° of the neutral pose) leave little of the excess
    for (let k = 0; k < 20; k += 1) calibrator.add(closed[k % closed.length]!, 2000 + k * 40);
    expect(calibrator.neutralMouthGap).toBeLessThan(0.02);
  });

  it('ignores a frame whose head is turned away from the calibrated pose', () => {
    const calibrator = calibrated(open.slice(0, 11));
    const before = calibrator.neutralMouthGap;
    const turned: MetricFace = { ...closed[0]!, pose: { ...closed[0]!.pose, linear: rotateY(closed[0]!.pose.linear, (30 * Math.PI) / 180) } };
    expect(calibrator.add(turned, 1000)).toBe(false);
    expect(calibrator.neutralMouthGap).toBe(before);
  });

  it("after a driver who talked through calibration closes the mouth once, a closed mouth renders the identity's closed lips, not crossed ones", () => {
    const calibrator = calibrated(open.slice(0, 11));
    const driver = new Retargeter({ landmarks: s0.frames[0]!, width: s0.width, height: s0.height });
    driver.setDriverNeutral(calibrator.neutral!);
    const out = new Float32Array(478 * 3);
    const crossedBefore = signedGap(driver.project(driver.delta(closed[0]!), out));
    expect(crossedBefore).toBeLessThan(-0.03); // the old average-of-calibration neutral's failure
    for (let k = 0; k < 20; k += 1) if (calibrator.add(closed[k % closed.length]!, 1000 + k * 40)) driver.setDriverNeutral(calibrator.neutral!);
    expect(signedGap(driver.project(driver.delta(closed[0]!), out))).toBeGreaterThan(-0.01);
    // and an open mouth still opens the identity's
    expect(signedGap(driver.project(driver.delta(open[0]!), out))).toBeGreaterThan(0.05);
  });
});

/** linear (3×3 row-major sR) rotated by `angle` about y. */
function rotateY(linear: Float64Array, angle: number): Float64Array {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const r = [c, 0, s, 0, 1, 0, -s, 0, c];
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i += 1) for (let j = 0; j < 3; j += 1) for (let k = 0; k < 3; k += 1) out[i * 3 + j] = (out[i * 3 + j] as number) + (r[i * 3 + k] as number) * (linear[k * 3 + j] as number);
  return out;
}
