import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MOTION_BASIS_SHA256 } from './basis/motionBasisData';
import { decodeMotionPacket } from './decodeMotionPacket';
import { loadMotionBasis } from './motionBasis';
import { MotionEncoder } from './MotionEncoder';
import { hexToBytes, motionFixtures } from './testdata/motionFixtures';

const basis = loadMotionBasis();
const sha = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

// Vectors pin the exact arithmetic: if the basis is refitted, regenerate them with
// `npx tsx test/tools/generate-motion-fixtures.ts`.
describe('motion codec determinism vectors', () => {
  it('were generated for the shipped basis', () => {
    expect(motionFixtures.basisSha256).toBe(MOTION_BASIS_SHA256);
  });

  it('decodes every vector to bit-identical float32 landmarks', () => {
    for (const v of motionFixtures.vectors) {
      const r = decodeMotionPacket(hexToBytes(v.packetHex), basis);
      if (!r.ok) throw new Error(`${v.source}: ${r.error}`);
      expect(sha(r.frame.landmarks), v.source).toBe(v.landmarksSha256);
      expect(Array.from(r.frame.landmarks.subarray(0, 3))).toEqual(v.firstLandmark);
    }
  });

  it('decodes the same bytes to the same landmarks every time', () => {
    const packet = hexToBytes(motionFixtures.vectors[0]!.packetHex);
    const a = decodeMotionPacket(packet, basis);
    const b = decodeMotionPacket(Uint8Array.from(packet), basis);
    expect(a.ok && b.ok && sha(a.frame.landmarks) === sha(b.frame.landmarks)).toBe(true);
  });

  it('encodes the fixture frames to the recorded packets', () => {
    const encoder = new MotionEncoder(basis);
    motionFixtures.samples.forEach((s, i) => {
      const packet = encoder.encode({ ...s, captureTimeMs: 1_700_000_000_000 + motionFixtures.frames[i]!.index * 33.3125 });
      expect(Buffer.from(packet).toString('hex')).toBe(motionFixtures.vectors[i]!.packetHex);
    });
  });
});
