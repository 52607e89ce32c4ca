/**
 * Pixel dimensions of a JPEG, PNG or WebP read from its header alone (the first 512 KiB at
 * most), so an upload can be refused before anything decodes it: a 30000×30000 PNG of zeros is a
 * few hundred kilobytes on disk and 3.6 GB once decoded. Also reads the JPEG EXIF orientation.
 *
 * Returns undefined when the header cannot be found or is malformed (the caller refuses the file).
 */
import { open } from 'node:fs/promises';

export type ImageHeader = {
  format: 'jpeg' | 'png' | 'webp';
  /** Stored (coded) size in pixels, before EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (JPEG only; 1 when absent). 5..8 swap width and height when shown. */
  orientation: number;
};

const HEADER_BYTES = 512 * 1024;

export async function readImageHeader(path: string): Promise<ImageHeader | undefined> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    return parseImageHeader(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export function parseImageHeader(b: Buffer): ImageHeader | undefined {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') {
    return { format: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20), orientation: 1 };
  }
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    return parseWebp(b);
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return parseJpeg(b);
  return undefined;
}

function parseWebp(b: Buffer): ImageHeader | undefined {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8X') {
    return { format: 'webp', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3), orientation: 1 };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) return undefined;
    const bits = b.readUInt32LE(21);
    return { format: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff), orientation: 1 };
  }
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return { format: 'webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff, orientation: 1 };
  }
  return undefined;
}

function parseJpeg(b: Buffer): ImageHeader | undefined {
  let orientation = 1;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1] as number;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    if (length < 2) return undefined;
    const body = i + 4;
    if (marker === 0xe1 && body + 6 <= b.length && b.toString('latin1', body, body + 6) === 'Exif\0\0') {
      orientation = exifOrientation(b.subarray(body + 6, Math.min(b.length, i + 2 + length))) ?? orientation;
    }
    // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (body + 5 > b.length) return undefined;
      return { format: 'jpeg', height: b.readUInt16BE(body + 1), width: b.readUInt16BE(body + 3), orientation };
    }
    if (marker === 0xda) return undefined; // scan data before any frame header
    i += 2 + length;
  }
  return undefined;
}

function exifOrientation(tiff: Buffer): number | undefined {
  if (tiff.length < 8) return undefined;
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}
