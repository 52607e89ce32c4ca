/**
 * One ffmpeg process encoding raw RGB frames to VP8 with libvpx in realtime mode: frames go in
 * through stdin (rawvideo rgb24, S×S), IVF comes out of stdout, one encoded frame per input frame
 * in order (no lag, no alt-ref, no frame dropping). Its first frame is always a key frame, which
 * is what KeyframeEncoder uses to answer PLI/FIR at once (ffmpeg itself cannot be asked for one).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../logger';
import { TypedEmitter } from '../../util/TypedEmitter';
import { isVp8Keyframe, IvfReader } from './IvfReader';

export interface Vp8EncoderSettings {
  ffmpegPath: string;
  /** Frame side in pixels (square frames). */
  size: number;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalFrames: number;
  cpuUsed: number;
}

export interface EncodedFrame {
  data: Uint8Array;
  keyframe: boolean;
  /** From writing the raw frame to reading its VP8 frame (ms). */
  encodeMs: number;
}

type Pending = { resolve: (f: EncodedFrame) => void; reject: (e: Error) => void; startedMs: number };

export class EncoderClosedError extends Error {
  override readonly name = 'EncoderClosedError';
}

export class FfmpegVp8Encoder extends TypedEmitter<{ exit: [number | null] }> {
  readonly settings: Vp8EncoderSettings;
  readonly #process: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #reader = new IvfReader();
  readonly #pending: Pending[] = [];
  readonly #log: Logger;
  #stderr = '';
  #closed = false;
  #exited = false;
  /** Frames written so far. */
  framesIn = 0;

  constructor(settings: Vp8EncoderSettings, logger: Logger) {
    super();
    this.settings = settings;
    this.#log = logger;
    const { size, fps, bitrateKbps, keyframeIntervalFrames, cpuUsed } = settings;
    const rate = `${bitrateKbps}k`;
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size}x${size}`, '-r', String(fps), '-i', 'pipe:0',
      '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', String(cpuUsed),
      '-lag-in-frames', '0', '-auto-alt-ref', '0', '-error-resilient', '1', '-threads', '1',
      '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', `${Math.round(bitrateKbps / 2)}k`,
      '-undershoot-pct', '95', '-qmin', '4', '-qmax', '56',
      '-g', String(keyframeIntervalFrames), '-pix_fmt', 'yuv420p',
      '-f', 'ivf', '-flush_packets', '1', 'pipe:1',
    ];
    this.#process = spawn(settings.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#process.stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#process.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2000);
    });
    this.#process.stdin.on('error', () => undefined); // EPIPE when ffmpeg died; 'exit' reports it
    this.#process.once('error', (error) => {
      this.#log.error({ err: error }, 'ffmpeg failed to start');
      this.#onExit(null);
    });
    this.#process.once('exit', (code) => this.#onExit(code));
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Frames written whose VP8 frame has not come back yet. */
  get inFlight(): number {
    return this.#pending.length;
  }

  get alive(): boolean {
    return !this.#closed && !this.#exited;
  }

  /** Encodes one S×S×3 RGB frame; resolves with its VP8 frame. */
  encode(rgb: Uint8Array): Promise<EncodedFrame> {
    if (!this.alive) return Promise.reject(new EncoderClosedError('encoder is closed'));
    const expected = this.settings.size * this.settings.size * 3;
    if (rgb.length !== expected) return Promise.reject(new RangeError(`frame has ${rgb.length} bytes, expected ${expected}`));
    this.framesIn += 1;
    return new Promise<EncodedFrame>((resolve, reject) => {
      this.#pending.push({ resolve, reject, startedMs: performance.now() });
      this.#process.stdin.write(rgb);
    });
  }

  /** Idempotent: ends stdin, kills ffmpeg if it lingers, rejects what is still pending. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failPending(new EncoderClosedError('encoder closed'));
    this.#process.stdin.end();
    if (!this.#exited) this.#process.kill('SIGKILL');
  }

  #onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.#reader.push(chunk);
    } catch (error) {
      this.#log.error({ err: error }, 'ffmpeg wrote bad IVF; closing encoder');
      this.close();
      return;
    }
    const now = performance.now();
    for (const frame of frames) {
      const pending = this.#pending.shift();
      if (!pending) continue;
      pending.resolve({ data: frame.data, keyframe: isVp8Keyframe(frame.data), encodeMs: now - pending.startedMs });
    }
  }

  #onExit(code: number | null): void {
    if (this.#exited) return;
    this.#exited = true;
    if (!this.#closed) this.#log.error({ code, stderr: this.#stderr.trim() }, 'ffmpeg VP8 encoder exited');
    this.#failPending(new EncoderClosedError(`ffmpeg exited (code ${code})`));
    this.safeEmit('exit', code);
    this.removeAllListeners();
  }

  #failPending(error: Error): void {
    for (const p of this.#pending.splice(0)) p.reject(error);
  }
}
