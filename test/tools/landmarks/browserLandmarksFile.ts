import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { browserLandmarksSchema } from './browserLandmarksFormat';
import type { BrowserLandmarks } from './browserLandmarksFormat';

const MAGIC = 'BLM1';
const FLOATS_PER_FRAME = 478 * 3 + 16 + 52;

/** Writes the extraction as JSON (`.json`) or the compact binary layout (anything else, e.g. `.bin`). */
export async function writeBrowserLandmarks(path: string, data: BrowserLandmarks): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if (path.endsWith('.json')) {
    await writeFile(path, JSON.stringify(data));
    return;
  }
  const present = data.frames.filter((f) => f.present);
  const header = { ...data, frames: data.frames.map(({ index, timestampMs, present: p }) => ({ index, timestampMs, present: p })) };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const body = new Float32Array(present.length * FLOATS_PER_FRAME);
  present.forEach((f, i) => {
    body.set(f.landmarks!, i * FLOATS_PER_FRAME);
    body.set(f.matrix!, i * FLOATS_PER_FRAME + 478 * 3);
    body.set(f.blendshapes!, i * FLOATS_PER_FRAME + 478 * 3 + 16);
  });
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(headerBytes.length, 4);
  await writeFile(path, Buffer.concat([prefix, headerBytes, Buffer.from(body.buffer)]));
}

/** Reads either layout back and validates it (the file may come from another tool or version). */
export async function readBrowserLandmarks(path: string): Promise<BrowserLandmarks> {
  const bytes = await readFile(path);
  if (bytes.subarray(0, 4).toString('ascii') !== MAGIC) return browserLandmarksSchema.parse(JSON.parse(bytes.toString('utf8')));
  const headerLength = bytes.readUInt32LE(4);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as { frames: { present: boolean }[] };
  const bodyBytes = bytes.subarray(8 + headerLength);
  const body = new Float32Array(bodyBytes.buffer.slice(bodyBytes.byteOffset, bodyBytes.byteOffset + bodyBytes.byteLength));
  let k = 0;
  const frames = (header.frames ?? []).map((f) => {
    if (!f.present) return { ...f, landmarks: null, matrix: null, blendshapes: null };
    const o = k++ * FLOATS_PER_FRAME;
    return {
      ...f,
      landmarks: Array.from(body.subarray(o, o + 478 * 3)),
      matrix: Array.from(body.subarray(o + 478 * 3, o + 478 * 3 + 16)),
      blendshapes: Array.from(body.subarray(o + 478 * 3 + 16, o + FLOATS_PER_FRAME)),
    };
  });
  return browserLandmarksSchema.parse({ ...header, frames });
}
