/**
 * Motion-packet generators for tests and the page's fuzz hook (window.__avatar.fuzz):
 * hostile motion-channel traffic (random bytes, mutations of real packets — bit flips, truncation,
 * extension, wrong version/basis, sequence and time fields rewritten — empty messages and
 * strings) and random well-formed packets. Driven by a seeded PRNG (`seededRandom`), so a
 * failing run can be replayed.
 */
import type { MotionBasis } from './motionBasis';
import { MOTION_PACKET_VERSION } from './motionConstants';
import { BitWriter } from './BitWriter';
import { HEADER_BYTES, QUAT_OFFSET } from './motionPacketLayout';

export type FuzzMessage = Uint8Array | string;

/**
 * One fuzz message. `templates` are real encoded packets to mutate; `maxBytes` is the codec's
 * largest packet (some messages are made longer on purpose).
 */
export function fuzzMessage(random: () => number, templates: readonly Uint8Array[], maxBytes: number): FuzzMessage {
  const int = (n: number) => Math.floor(random() * n);
  const template = templates.length > 0 ? (templates[int(templates.length)] as Uint8Array) : new Uint8Array(maxBytes / 2);
  const copy = () => new Uint8Array(template);
  switch (int(10)) {
    case 0: {
      // Random bytes of random length, sometimes past the limit.
      const bytes = new Uint8Array(int(maxBytes * 3));
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = int(256);
      return bytes;
    }
    case 1: {
      const bytes = copy();
      const flips = 1 + int(8);
      for (let i = 0; i < flips; i += 1) {
        const at = int(bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 << int(8));
      }
      return bytes;
    }
    case 2:
      return copy().subarray(0, int(template.length));
    case 3: {
      const longer = new Uint8Array(template.length + 1 + int(maxBytes * 2));
      longer.set(template);
      for (let i = template.length; i < longer.length; i += 1) longer[i] = int(256);
      return longer;
    }
    case 4: {
      const bytes = copy();
      bytes[0] = (MOTION_PACKET_VERSION + 1 + int(255)) % 256; // an unknown version
      return bytes;
    }
    case 5: {
      const bytes = copy();
      if (bytes.length > 1) bytes[1] = (bytes[1] as number) ^ (1 + int(255)); // another basis
      return bytes;
    }
    case 6: {
      // Well-formed header, sequence and capture-time fields rewritten at random.
      const bytes = copy();
      for (let i = 2; i < Math.min(10, bytes.length); i += 1) bytes[i] = int(256);
      return bytes;
    }
    case 7: {
      // All 0xff after the header: every quantised field at its maximum.
      const bytes = copy();
      bytes.fill(0xff, Math.min(13, bytes.length));
      return bytes;
    }
    case 8:
      return int(2) === 0 ? new Uint8Array(0) : '';
    default: {
      const chars = int(3) === 0 ? 'x'.repeat(int(maxBytes * 4)) : JSON.stringify({ seq: int(65536), t: random() });
      return chars;
    }
  }
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
