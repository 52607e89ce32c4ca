import type { MotionBasis } from '../motionBasis';
import { MOTION_PACKET_VERSION } from '../motionConstants';
import { BitWriter } from '../BitWriter';
import { HEADER_BYTES, QUAT_OFFSET } from '../motionPacketLayout';

/** Small seeded PRNG (uint32 state) so test vectors and fuzz runs are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A well-formed packet with random header fields, a random small rotation and random coefficient codes. */
export function randomValidPacket(basis: MotionBasis, rand: () => number): Uint8Array {
  const bytes = new Uint8Array(basis.packetBytes);
  const int = (n: number) => Math.floor(rand() * n);
  bytes[0] = MOTION_PACKET_VERSION;
  bytes[1] = basis.id;
  for (let i = 2; i < 10; i++) bytes[i] = int(256);
  bytes[9] = 0; // keep the time below 2^40 units
  const size = (1 + int(4095)) | ((1 + int(4095)) << 12);
  bytes[10] = size & 0xff;
  bytes[11] = (size >>> 8) & 0xff;
  bytes[12] = size >>> 16;
  const w = new BitWriter(bytes, HEADER_BYTES);
  for (let i = 0; i < 3; i++) w.write(QUAT_OFFSET - 1000 + int(2000), 12);
  w.write(int(2 ** 15), 15);
  w.write(int(2 ** 15), 15);
  w.write(int(2 ** 10), 10);
  w.write(int(2 ** 14), 14);
  for (let k = 0; k < basis.componentCount; k++) {
    const b = basis.bits[k]!;
    w.write(int(2 ** b), b);
  }
  return bytes;
}
