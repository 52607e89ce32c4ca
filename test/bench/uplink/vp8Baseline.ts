import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FaceCrop } from './faceCrop';

const run = promisify(execFile);
const MAX_BUFFER = 64 * 1024 * 1024;
const IVF_FILE_HEADER = 32;
const IVF_FRAME_HEADER = 12;

export type Vp8Trial = { targetKbps: number; kbps: number; ssim: number };
export type Vp8Baseline = { kbps: number; ssim: number; targetKbps: number; trials: Vp8Trial[]; settings: string };

/**
 * libvpx VP8 with WebRTC-like realtime settings: one pass, realtime deadline, no lookahead, no
 * alt-ref, error resilient, CBR with a 1 s buffer, one key frame at the start.
 */
export const VP8_ARGS = (kbps: number) => [
  '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-auto-alt-ref', '0',
  '-error-resilient', '1', '-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
  '-g', '100000', '-threads', '1',
];

async function encodeAndScore(refYuv: string, fps: number, frames: number, kbps: number, dir: string): Promise<Vp8Trial> {
  const ivf = join(dir, `vp8-${kbps}.ivf`);
  const raw = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '256x256', '-r', String(fps), '-i', refYuv];
  await run('ffmpeg', ['-v', 'error', '-y', ...raw, ...VP8_ARGS(kbps), '-f', 'ivf', ivf], { maxBuffer: MAX_BUFFER });
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-nostats', '-i', ivf, ...raw, '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-'], { maxBuffer: MAX_BUFFER });
  const match = /SSIM .*All:([0-9.]+)/.exec(stderr);
  if (!match) throw new Error(`no SSIM in ffmpeg output: ${stderr.slice(-400)}`);
  // Payload bitrate: the ivf container's headers are not video bits.
  const payload = (await stat(ivf)).size - IVF_FILE_HEADER - IVF_FRAME_HEADER * frames;
  await rm(ivf, { force: true });
  return { targetKbps: kbps, kbps: (payload * 8 * fps) / frames / 1000, ssim: Number(match[1]) };
}

/**
 * Bisects (on a log scale) the lowest target bitrate whose encode of the 256×256 face crop reaches
 * SSIM ≥ threshold (ffmpeg ssim filter, "All" = Y/U/V weighted), and returns the bitrate it
 * actually produced. Runs at the clip's own frame rate.
 */
export async function vp8BitrateForSsim(clip: string, crop: FaceCrop, fps: number, threshold = 0.95): Promise<Vp8Baseline> {
  const dir = await mkdtemp(join(tmpdir(), 'uplink-vp8-'));
  try {
    const refYuv = join(dir, 'ref.yuv');
    await run('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', `crop=${crop.side}:${crop.side}:${crop.x}:${crop.y},scale=256:256:flags=bicubic`, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', refYuv], { maxBuffer: MAX_BUFFER });
    const frames = (await stat(refYuv)).size / (256 * 256 * 1.5);
    const trials: Vp8Trial[] = [];
    const trial = async (kbps: number) => {
      const t = await encodeAndScore(refYuv, fps, frames, Math.round(kbps), dir);
      trials.push(t);
      return t;
    };
    let lo = 8;
    let hi = 400;
    let best = await trial(hi);
    while (best.ssim < threshold && hi < 20_000) {
      lo = hi;
      hi *= 2;
      best = await trial(hi);
    }
    if (best.ssim < threshold) throw new Error(`VP8 never reached SSIM ${threshold} (at ${hi} kbps: ${best.ssim})`);
    while (hi / lo > 1.04) {
      const mid = Math.sqrt(lo * hi);
      const t = await trial(mid);
      if (t.ssim >= threshold) {
        hi = mid;
        best = t;
      } else {
        lo = mid;
      }
    }
    return { kbps: best.kbps, ssim: best.ssim, targetKbps: best.targetKbps, trials, settings: `ffmpeg ${VP8_ARGS(best.targetKbps).join(' ')}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
