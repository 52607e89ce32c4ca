/** Test helper: any media file -> 16 kHz mono float32 PCM (ffmpeg). */
import { execFileSync } from 'node:child_process';

export function decodeAudio16k(file: string, seconds?: number): Float32Array {
  const args = ['-v', 'error', '-nostdin', '-i', file, ...(seconds ? ['-t', String(seconds)] : []), '-vn', '-ac', '1',
    '-ar', '16000', '-f', 'f32le', '-'];
  const buf = execFileSync('ffmpeg', args, { maxBuffer: 1 << 28 });
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb + 1e-30);
}
