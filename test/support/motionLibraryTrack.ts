/**
 * Reads a landmark track of models/motion_library (numpy .npz, format in
 * models/motion_library/README.md) in TypeScript: a minimal zip reader (deflate or stored
 * members) and .npy parser, enough for the library's arrays. Used by avatar tests and
 * `npm run bench:avatars` to replay recorded motion.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface MotionLibraryTrack {
  clip: string;
  fps: number;
  width: number;
  height: number;
  /** Valid frames only, each 478*3 float32 normalised landmarks. */
  frames: Float32Array[];
}

type NpyArray = { descr: string; shape: number[]; data: Buffer };

function readZip(buffer: Buffer): Map<string, Buffer> {
  let eocd = buffer.length - 22;
  while (eocd >= 0 && buffer.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const entries = buffer.readUInt16LE(eocd + 10);
  let offset = buffer.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < entries; i += 1) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = buffer.readUInt16LE(offset + 10);
    const compressedSize = buffer.readUInt32LE(offset + 20);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const localOffset = buffer.readUInt32LE(offset + 42);
    const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength);
    const localName = buffer.readUInt16LE(localOffset + 26);
    const localExtra = buffer.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localName + localExtra;
    const raw = buffer.subarray(start, start + compressedSize);
    if (method !== 0 && method !== 8) throw new Error(`zip member ${name}: compression method ${method} unsupported`);
    files.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

function readNpy(buffer: Buffer): NpyArray {
  if (buffer.toString('latin1', 1, 6) !== 'NUMPY') throw new Error('not a .npy array');
  const major = buffer[6] as number;
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buffer.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined || /'fortran_order':\s*True/.test(header)) throw new Error(`unsupported .npy header ${header}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape, data: buffer.subarray(headerStart + headerLength) };
}

function scalar(a: NpyArray): number {
  if (a.descr === '<f8') return a.data.readDoubleLE(0);
  if (a.descr === '<f4') return a.data.readFloatLE(0);
  if (a.descr === '<i8') return Number(a.data.readBigInt64LE(0));
  if (a.descr === '<i4') return a.data.readInt32LE(0);
  throw new Error(`unsupported scalar dtype ${a.descr}`);
}

function floats(a: NpyArray): Float32Array {
  if (a.descr !== '<f4') throw new Error(`expected float32, got ${a.descr}`);
  return new Float32Array(a.data.buffer.slice(a.data.byteOffset, a.data.byteOffset + a.data.byteLength));
}

/** Loads `models/motion_library/<clip>.npz` (e.g. 'd10'). */
export function loadMotionLibraryTrack(clip: string): MotionLibraryTrack {
  const files = readZip(readFileSync(join(repoRoot, 'models/motion_library', `${clip}.npz`)));
  const get = (name: string): NpyArray => {
    const file = files.get(`${name}.npy`);
    if (!file) throw new Error(`${clip}.npz has no ${name}`);
    return readNpy(file);
  };
  const valid = get('valid');
  const frameCount = valid.shape[0] as number;
  const points = 478 * 3;
  let values: Float32Array;
  if (files.has('landmarks_q.npy')) {
    const q = get('landmarks_q');
    const lo = floats(get('q_lo'));
    const hi = floats(get('q_hi'));
    const codes = new Uint16Array(q.data.buffer.slice(q.data.byteOffset, q.data.byteOffset + q.data.byteLength));
    values = new Float32Array(codes.length);
    for (let i = 0; i < codes.length; i += 1) {
      const axis = i % 3;
      values[i] = ((codes[i] as number) / 65535) * ((hi[axis] as number) - (lo[axis] as number)) + (lo[axis] as number);
    }
  } else {
    values = floats(get('landmarks'));
  }
  const frames: Float32Array[] = [];
  for (let t = 0; t < frameCount; t += 1) {
    if (valid.data[t] !== 1) continue;
    frames.push(values.slice(t * points, (t + 1) * points));
  }
  return { clip, fps: scalar(get('fps')), width: scalar(get('width')), height: scalar(get('height')), frames };
}
