import { z } from 'zod';
import raw from './motionFixtures.json';

const fixturesSchema = z.object({
  basisSha256: z.string(),
  clip: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  frames: z.array(z.object({ index: z.number().int(), landmarks: z.string(), matrix: z.array(z.number()).length(16) })),
  vectors: z.array(z.object({ source: z.string(), packetHex: z.string(), landmarksSha256: z.string(), firstLandmark: z.array(z.number()).length(3) })),
});

const fixtures = fixturesSchema.parse(raw);

function base64ToFloat32(b64: string): Float32Array {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Real held-out frames (see motionFixtures.json's note) and determinism vectors. */
export const motionFixtures = {
  ...fixtures,
  samples: fixtures.frames.map((f, i) => ({
    captureTimeMs: 1_000 + i * 40,
    landmarks: base64ToFloat32(f.landmarks),
    transformMatrix: Float32Array.from(f.matrix),
    imageWidth: fixtures.width,
    imageHeight: fixtures.height,
  })),
};
