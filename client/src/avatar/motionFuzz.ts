/**
 * Hostile motion-channel traffic for robustness tests: random bytes, mutations of real
 * packets (bit flips, truncation, extension, wrong version/basis, sequence and time fields
 * rewritten), empty messages and strings. Seeded, so a failing run can be replayed.
 */

/** mulberry32: tiny, fast, good enough to pick mutations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
      bytes[0] = 2 + int(254); // an unknown version
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
