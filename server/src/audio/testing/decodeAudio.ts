/** Test helper: any media file -> 16 kHz mono float32 PCM (ffmpeg). */
import { execFileSync } from 'node:child_process';

export function decodeAudio16k(file: string, seconds?: number): Float32Array {
  const args = ['-v', 'error', '-nostdin', '-i', file, ...(seconds ? ['-t', String(seconds)] : []), '-vn', '-ac', '1',
    '-ar', '16000', '-f', 'f32le', '-'];
  const buf = execFileSync('ffmpeg', args, { maxBuffer: 1 << 28 });
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
