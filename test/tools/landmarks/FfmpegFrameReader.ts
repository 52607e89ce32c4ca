import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { exifOrientationFilters, SQUARE_PIXELS_FILTER } from './probeClip';
import type { ClipInfo } from './probeClip';

/** One decoded frame: RGBA bytes, `width * height * 4` of them, rows top to bottom. */
export type RgbaFrame = { width: number; height: number; data: Buffer };

const PAM_END = Buffer.from('ENDHDR\n');
const MAX_HEADER_BYTES = 256;

/**
 * Decodes a clip (or still image) with ffmpeg into RGBA frames, one at a time, as a player shows
 * them: display-matrix rotation applied (ffmpeg's autorotation), non-square sample aspect ratios
 * resampled to square pixels, and an image turned by its EXIF orientation. Frames travel as PAM
 * images, each with its own WIDTH/HEIGHT header, so a frame always has the size ffmpeg produced.
 */
export class FfmpegFrameReader {
  readonly #proc: ChildProcessByStdio<null, Readable, Readable>;
  readonly #chunks: AsyncIterator<Buffer>;
  #pending: Buffer = Buffer.alloc(0);
  #stderr = '';
  #closed = false;

  /** `info` from probeClip(clip) (an image's EXIF orientation comes from it). */
  static create(clip: string, info: Pick<ClipInfo, 'isImage' | 'exifOrientation'>, maxFrames?: number): FfmpegFrameReader {
    // An image is turned by its EXIF tag here, with ffmpeg's own autorotation off: whether ffmpeg
    // applies EXIF (5.1 does, through the decoder's display matrix) depends on its version. The turn
    // comes after conversion to RGBA, so it moves pixels and never re-sites chroma samples.
    const filters = info.isImage && info.exifOrientation !== 1 ? ['format=rgba', ...exifOrientationFilters(info.exifOrientation)] : [];
    filters.push(SQUARE_PIXELS_FILTER);
    const args = ['-v', 'error', '-nostdin', ...(info.isImage ? ['-noautorotate'] : []), '-i', clip, '-map', '0:v:0', '-vf', filters.join(',')];
    if (maxFrames !== undefined) args.push('-frames:v', String(maxFrames));
    args.push('-vsync', 'passthrough', '-f', 'image2pipe', '-c:v', 'pam', '-pix_fmt', 'rgba', '-');
    const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new FfmpegFrameReader(proc);
  }

  private constructor(proc: ChildProcessByStdio<null, Readable, Readable>) {
    this.#proc = proc;
    this.#chunks = proc.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    proc.stderr.on('data', (d: Buffer) => {
      if (this.#stderr.length < 4000) this.#stderr += d.toString();
    });
  }

  /** The next frame, or null at the end of the clip. Throws on ffmpeg errors or a malformed frame. */
  async next(): Promise<RgbaFrame | null> {
    let headerEnd: number;
    while ((headerEnd = this.#pending.indexOf(PAM_END)) < 0) {
      if (this.#pending.length > MAX_HEADER_BYTES) throw new Error('ffmpeg: malformed PAM frame header');
      if (!(await this.#read())) return this.#end();
    }
    const { width, height, depth } = parsePamHeader(this.#pending.subarray(0, headerEnd).toString('ascii'));
    if (depth !== 4) throw new Error(`ffmpeg: expected RGBA frames, got depth ${depth}`);
    const start = headerEnd + PAM_END.length;
    const end = start + width * height * depth;
    while (this.#pending.length < end) {
      if (!(await this.#read())) return this.#end();
    }
    const data = Buffer.from(this.#pending.subarray(start, end));
    this.#pending = this.#pending.subarray(end);
    return { width, height, data };
  }

  async #read(): Promise<boolean> {
    const { value, done } = await this.#chunks.next();
    if (done) return false;
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, value]) : value;
    return true;
  }

  /** End of the output: null when ffmpeg exited cleanly, else its error (stderr included). */
  async #end(): Promise<null> {
    const proc = this.#proc;
    if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit');
    if (proc.exitCode !== 0) throw new Error(`ffmpeg exited ${proc.exitCode ?? proc.signalCode}: ${this.#stderr.trim()}`);
    return null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
  }
}

function parsePamHeader(text: string): { width: number; height: number; depth: number } {
  const lines = text.split('\n');
  if (lines[0] !== 'P7') throw new Error(`ffmpeg: unexpected frame header ${JSON.stringify(lines[0])}`);
  const field = (name: string): number => {
    const line = lines.find((l) => l.startsWith(`${name} `));
    const value = line ? Number(line.slice(name.length + 1)) : NaN;
    if (!Number.isInteger(value) || value < 1) throw new Error(`ffmpeg: bad ${name} in frame header`);
    return value;
  };
  return { width: field('WIDTH'), height: field('HEIGHT'), depth: field('DEPTH') };
}
