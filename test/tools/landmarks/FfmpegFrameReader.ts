import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Decodes a clip with ffmpeg into raw RGBA frames, one at a time, at the clip's own size. */
export class FfmpegFrameReader {
  readonly #proc: ChildProcessByStdio<null, Readable, Readable>;
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #frameBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #stderr = '';
  #closed = false;

  static create(clip: string, width: number, height: number, maxFrames?: number): FfmpegFrameReader {
    const args = ['-v', 'error', '-nostdin', '-i', clip];
    if (maxFrames !== undefined) args.push('-frames:v', String(maxFrames));
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgba', '-');
    const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new FfmpegFrameReader(proc, width * height * 4);
  }

  private constructor(proc: ChildProcessByStdio<null, Readable, Readable>, frameBytes: number) {
    this.#proc = proc;
    this.#frameBytes = frameBytes;
    this.#chunks = proc.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    proc.stderr.on('data', (d: Buffer) => {
      if (this.#stderr.length < 4000) this.#stderr += d.toString();
    });
  }

  /** The next frame (width*height*4 bytes), or null at the end of the clip. */
  async next(): Promise<Buffer | null> {
    while (this.#pendingBytes < this.#frameBytes) {
      const { value, done } = await this.#chunks.next();
      if (done) {
        if (this.#stderr.trim()) throw new Error(`ffmpeg: ${this.#stderr.trim()}`);
        return null;
      }
      this.#pending.push(value);
      this.#pendingBytes += value.length;
    }
    const all = Buffer.concat(this.#pending);
    const frame = all.subarray(0, this.#frameBytes);
    const rest = all.subarray(this.#frameBytes);
    this.#pending = rest.length ? [rest] : [];
    this.#pendingBytes = rest.length;
    return frame;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
  }
}
