import { describe, expect, it } from 'vitest';
import { BitWriter } from './BitWriter';
import { decodeMotionPacket } from './decodeMotionPacket';
import { loadMotionBasis } from './motionBasis';
import type { MotionBasis } from './motionBasis';
import { MAX_MOTION_PACKET_BYTES } from './motionConstants';
import { MotionEncoder } from './MotionEncoder';
import { HEADER_BYTES, POSE_BITS } from './motionPacketLayout';
import type { MotionPacketError } from './motionTypes';
import { motionFixtures } from './testdata/motionFixtures';

const basis = loadMotionBasis();
const good = () => new MotionEncoder(basis).encode(motionFixtures.samples[0]!);

function expectError(bytes: unknown, error: MotionPacketError, b: MotionBasis = basis) {
  const r = decodeMotionPacket(bytes as Uint8Array, b);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error).toBe(error);
    expect(r.message.length).toBeGreaterThan(0);
  }
}

describe('decodeMotionPacket', () => {
  it('decodes a packet that is a view into a larger buffer', () => {
    const packet = good();
    const big = new Uint8Array(packet.byteLength + 10);
    big.set(packet, 5);
    const r = decodeMotionPacket(big.subarray(5, 5 + packet.byteLength), basis);
    expect(r.ok).toBe(true);
  });

  it("rejects what is not a Uint8Array as 'bad_type'", () => {
    expectError('hello', 'bad_type');
    expectError(null, 'bad_type');
    expectError(new ArrayBuffer(64), 'bad_type');
    expectError([1, 2, 3], 'bad_type');
  });

  it("rejects an empty packet, a short header and a short body as 'truncated'", () => {
    expectError(new Uint8Array(0), 'truncated');
    expectError(good().subarray(0, HEADER_BYTES - 1), 'truncated');
    expectError(good().subarray(0, basis.packetBytes - 1), 'truncated');
  });

  it("rejects more than MAX_MOTION_PACKET_BYTES as 'oversized'", () => {
    const big = new Uint8Array(MAX_MOTION_PACKET_BYTES + 1);
    big.set(good());
    expectError(big, 'oversized');
  });

  it("rejects an unknown version as 'bad_version'", () => {
    for (const v of [0, 1, 3, 255]) { // 1: the v1 layout (scale relative to the width) is no longer decoded
      const p = good();
      p[0] = v;
      expectError(p, 'bad_version');
    }
  });

  it("rejects a packet coded against another basis as 'bad_basis'", () => {
    const p = good();
    p[1] = (basis.id + 1) & 0xff;
    expectError(p, 'bad_basis');
  });

  it("rejects trailing bytes as 'bad_length'", () => {
    const p = new Uint8Array(basis.packetBytes + 1);
    p.set(good());
    expectError(p, 'bad_length');
  });

  it("rejects a zero image width or height as 'bad_value'", () => {
    const noWidth = good();
    noWidth[10] = 0;
    noWidth[11]! &= 0xf0;
    expectError(noWidth, 'bad_value');
    const noHeight = good();
    noHeight[11]! &= 0x0f;
    noHeight[12] = 0;
    expectError(noHeight, 'bad_value');
  });

  it("rejects a rotation quaternion outside the unit ball as 'bad_value'", () => {
    const p = good();
    // qx = qy = qz = +1 → |q|² = 3
    p[13] = 0; p[14] = 0; p[15] = 0; p[16] = 0; p[17]! &= 0xf0;
    const w = new BitWriter(p, HEADER_BYTES);
    for (let i = 0; i < 3; i++) w.write(4095, 12);
    expectError(p, 'bad_value');
  });

  it("rejects non-zero padding bits as 'bad_value'", () => {
    // A basis whose layout ends mid-byte (the shipped one fills its 64 bytes exactly).
    const bits = new Uint8Array(basis.componentCount);
    bits[0] = 3;
    const padded: MotionBasis = { ...basis, bits, packetBytes: HEADER_BYTES + Math.ceil((POSE_BITS + 3) / 8) };
    const packet = new MotionEncoder(padded).encode(motionFixtures.samples[0]!);
    expect(decodeMotionPacket(packet, padded).ok).toBe(true);
    packet[packet.length - 1]! |= 0x80;
    expectError(packet, 'bad_value', padded);
  });
});
