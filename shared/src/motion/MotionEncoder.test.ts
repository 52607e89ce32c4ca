import { describe, expect, it } from 'vitest';
import { decodeMotionPacket } from './decodeMotionPacket';
import { loadMotionBasis } from './motionBasis';
import { LANDMARK_COUNT, MAX_MOTION_PACKET_BYTES, MOTION_PACKET_VERSION } from './motionConstants';
import { MotionEncoder } from './MotionEncoder';
import type { MotionFrame, MotionSample } from './motionTypes';
import { motionFixtures } from './testdata/motionFixtures';

const basis = loadMotionBasis();

function decodeOk(packet: Uint8Array): MotionFrame {
  const r = decodeMotionPacket(packet, basis);
  if (!r.ok) throw new Error(`${r.error}: ${r.message}`);
  return r.frame;
}

/** Per-landmark 2D error in pixels of a 256 px crop 1.4 × the face's bounding square (as the bench). */
function cropErrors(sample: MotionSample, out: Float32Array): number[] {
  const { landmarks: a, imageWidth: w, imageHeight: h } = sample;
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let j = 0; j < LANDMARK_COUNT; j++) {
    minX = Math.min(minX, a[j * 3]! * w); maxX = Math.max(maxX, a[j * 3]! * w);
    minY = Math.min(minY, a[j * 3 + 1]! * h); maxY = Math.max(maxY, a[j * 3 + 1]! * h);
  }
  const toCrop = 256 / (1.4 * Math.max(maxX - minX, maxY - minY));
  const errors: number[] = [];
  for (let j = 0; j < LANDMARK_COUNT; j++) {
    errors.push(Math.hypot((out[j * 3]! - a[j * 3]!) * w, (out[j * 3 + 1]! - a[j * 3 + 1]!) * h) * toCrop);
  }
  return errors;
}

describe('MotionEncoder', () => {
  it('fits a packet in the 16 kbps budget at 30 fps', () => {
    const packet = new MotionEncoder(basis).encode(motionFixtures.samples[0]!);
    expect(packet.byteLength).toBe(basis.packetBytes);
    expect(packet.byteLength).toBeLessThanOrEqual(MAX_MOTION_PACKET_BYTES);
    expect((packet.byteLength * 8 * 30) / 1000).toBeLessThanOrEqual(16);
    expect(packet[0]).toBe(MOTION_PACKET_VERSION);
  });

  it('round-trips real held-out landmarks within the codec tolerance (mean ≤ 1 px, p95 ≤ 1.5 px on a 256 px face crop)', () => {
    const encoder = new MotionEncoder(basis);
    for (const sample of motionFixtures.samples) {
      const frame = decodeOk(encoder.encode(sample));
      const errors = cropErrors(sample, frame.landmarks).sort((a, b) => a - b);
      const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
      expect(mean).toBeLessThan(1.0);
      expect(errors[Math.floor(errors.length * 0.95)]!).toBeLessThan(1.5);
      // z is coded too (same pixel scale as x).
      for (let j = 0; j < LANDMARK_COUNT; j++) {
        expect(Math.abs(frame.landmarks[j * 3 + 2]! - sample.landmarks[j * 3 + 2]!) * sample.imageWidth).toBeLessThan(8);
      }
    }
  });

  it('keeps the iris points (gaze) within a pixel', () => {
    const encoder = new MotionEncoder(basis);
    for (const sample of motionFixtures.samples) {
      const errors = cropErrors(sample, decodeOk(encoder.encode(sample)).landmarks);
      for (let j = 468; j < 478; j++) expect(errors[j]!).toBeLessThan(1.0);
    }
  });

  it('carries the header fields: sequence, capture time at 1/16 ms, image size', () => {
    const encoder = new MotionEncoder(basis);
    const sample = { ...motionFixtures.samples[1]!, captureTimeMs: 1_716_000_000_123.4375, imageWidth: 640, imageHeight: 480 };
    const a = decodeOk(encoder.encode(sample));
    const b = decodeOk(encoder.encode({ ...sample, captureTimeMs: 0.04 }));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(a.captureTimeMs).toBe(1_716_000_000_123.4375);
    expect(b.captureTimeMs).toBe(0.0625);
    expect([a.imageWidth, a.imageHeight]).toEqual([640, 480]);
  });

  it('numbers packets itself and wraps the 16-bit sequence safely', () => {
    const encoder = new MotionEncoder(basis, { firstSeq: 0xfffe });
    const seqs = [0, 1, 2, 3].map(() => decodeOk(encoder.encode(motionFixtures.samples[0]!)).seq);
    expect(seqs).toEqual([0xfffe, 0xffff, 0, 1]);
    expect(encoder.nextSeq).toBe(2);
  });

  it('decodes a proper rotation, the face centroid and its RMS scale as the pose', () => {
    const sample = motionFixtures.samples[2]!;
    const { pose } = decodeOk(new MotionEncoder(basis).encode(sample));
    const r = pose.rotation;
    // R·Rᵀ = I and det R = 1
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        const dot = r[i * 3]! * r[k * 3]! + r[i * 3 + 1]! * r[k * 3 + 1]! + r[i * 3 + 2]! * r[k * 3 + 2]!;
        expect(dot).toBeCloseTo(i === k ? 1 : 0, 5);
      }
    }
    const det = r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) - r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) + r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
    expect(det).toBeCloseTo(1, 5);
    let cx = 0, cy = 0;
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      cx += sample.landmarks[j * 3]!;
      cy += sample.landmarks[j * 3 + 1]!;
    }
    expect(pose.translation[0]).toBeCloseTo(cx / LANDMARK_COUNT, 4);
    expect(pose.translation[1]).toBeCloseTo(cy / LANDMARK_COUNT, 4);
    expect(pose.scale).toBeGreaterThan(0.05);
    expect(pose.scale).toBeLessThan(0.5);
  });

  it('follows a head turn: rotating the input rotates the decoded pose', () => {
    const sample = motionFixtures.samples[0]!;
    const angle = 0.3; // rad about the image z axis, around the face centroid
    let cx = 0, cy = 0;
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      cx += sample.landmarks[j * 3]! * sample.imageWidth;
      cy += sample.landmarks[j * 3 + 1]! * sample.imageHeight;
    }
    cx /= LANDMARK_COUNT; cy /= LANDMARK_COUNT;
    const turned = Float32Array.from(sample.landmarks);
    for (let j = 0; j < LANDMARK_COUNT; j++) {
      const x = sample.landmarks[j * 3]! * sample.imageWidth - cx, y = sample.landmarks[j * 3 + 1]! * sample.imageHeight - cy;
      turned[j * 3] = (Math.cos(angle) * x - Math.sin(angle) * y + cx) / sample.imageWidth;
      turned[j * 3 + 1] = (Math.sin(angle) * x + Math.cos(angle) * y + cy) / sample.imageHeight;
    }
    const encoder = new MotionEncoder(basis);
    const a = decodeOk(encoder.encode(sample)).pose.rotation;
    const turnedFrame = decodeOk(encoder.encode({ ...sample, landmarks: turned }));
    const b = turnedFrame.pose.rotation;
    // In-plane angle of the canonical x axis (first column) differs by the turn.
    const delta = Math.atan2(b[3]!, b[0]!) - Math.atan2(a[3]!, a[0]!);
    expect(delta).toBeCloseTo(angle, 2);
    const errors = cropErrors({ ...sample, landmarks: turned }, turnedFrame.landmarks);
    expect(errors.reduce((s, e) => s + e, 0) / errors.length).toBeLessThan(1.0);
  });

  it('refuses input MediaPipe cannot produce with a RangeError', () => {
    const encoder = new MotionEncoder(basis);
    const good = motionFixtures.samples[0]!;
    const nan = Float32Array.from(good.landmarks);
    nan[100] = Number.NaN;
    expect(() => encoder.encode({ ...good, landmarks: nan })).toThrow(RangeError);
    expect(() => encoder.encode({ ...good, landmarks: new Float32Array(10) })).toThrow(RangeError);
    expect(() => encoder.encode({ ...good, landmarks: new Float32Array(LANDMARK_COUNT * 3) })).toThrow(/degenerate/);
    expect(() => encoder.encode({ ...good, imageWidth: 0 })).toThrow(RangeError);
    expect(() => encoder.encode({ ...good, imageHeight: 5000 })).toThrow(RangeError);
    expect(() => encoder.encode({ ...good, captureTimeMs: -1 })).toThrow(RangeError);
    expect(() => encoder.encode({ ...good, captureTimeMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(encoder.nextSeq).toBe(0); // refused input consumes no sequence number
  });
});
