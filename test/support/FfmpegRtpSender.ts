/**
 * ffmpeg sending a synthetic VP8 test pattern as RTP to a UDP port (a server PlainTransport),
 * in real time. `close()` stops it and resolves when the process has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface FfmpegRtpSenderOptions {
  port: number;
  ssrc: number;
  payloadType: number;
  width?: number;
  height?: number;
  fps?: number;
}

export class FfmpegRtpSender {
  readonly #child: ChildProcess;
  #stderr = '';
  #exited = false;
  #closing: Promise<void> | undefined;

  static start(options: FfmpegRtpSenderOptions): FfmpegRtpSender {
    const { width = 320, height = 240, fps = 15 } = options;
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}`,
        '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', String(fps),
        '-payload_type', String(options.payloadType), '-ssrc', String(options.ssrc),
        '-f', 'rtp', `rtp://127.0.0.1:${options.port}?pkt_size=1200`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return new FfmpegRtpSender(child);
  }

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    child.once('exit', () => (this.#exited = true));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return !this.#exited;
  }

  get stderr(): string {
    return this.#stderr;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#exited) return;
      const exited = once(this.#child, 'exit');
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}
