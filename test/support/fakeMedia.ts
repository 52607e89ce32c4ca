/**
 * Real media for Chromium's fake capture devices: a talking-head clip from ../shared/media
 * converted to y4m (the only file format the fake camera reads) and a speech wav for the fake
 * microphone. Conversions are cached by their parameters under node_modules/.cache.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SQUARE_PIXELS_FILTER } from '../tools/landmarks/probeClip';
import { repoRoot } from './clientBuild';

export const sharedMediaDir = join(repoRoot, '../shared/media');
const cacheDir = join(repoRoot, 'node_modules/.cache/avatar-call/fake-media');

export interface Y4mOptions {
  /** File name under ../shared/media, e.g. 'd10.mp4'. */
  clip: string;
  width: number;
  height: number;
  fps: number;
  seconds: number;
}

export async function clipToY4m(options: Y4mOptions): Promise<string> {
  const { clip, width, height, fps, seconds } = options;
  const out = join(cacheDir, `${basename(clip).replace(/\W+/g, '_')}-${width}x${height}-${fps}fps-${seconds}s.y4m`);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.y4m`;
  await runFfmpeg([
    '-v', 'error', '-y', '-i', resolve(sharedMediaDir, clip), '-t', String(seconds),
    // Square pixels first (after ffmpeg's autorotation), so the crop keeps the displayed shape.
    '-vf', `${SQUARE_PIXELS_FILTER},scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},fps=${fps}`,
    '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', tmp,
  ]);
  await rename(tmp, out);
  return out;
}

/** A real speech recording for the fake microphone (48 kHz mono 16-bit, as WebRTC likes). */
export async function speechWav(clip = 'imagine.wav'): Promise<string> {
  const out = join(cacheDir, `${clip.replace(/\W+/g, '_')}-48k.wav`);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.wav`;
  await runFfmpeg(['-v', 'error', '-y', '-i', join(sharedMediaDir, clip), '-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', tmp]);
  await rename(tmp, out);
  return out;
}

/**
 * The sound track of a clip (a name under ../shared/media or a path) for the fake microphone,
 * cut to the same `seconds` as its y4m so the two loop together (48 kHz mono 16-bit).
 */
export async function clipAudioToWav(clip: string, seconds: number): Promise<string> {
  const out = join(cacheDir, `${basename(clip).replace(/\W+/g, '_')}-audio-${seconds}s-48k.wav`);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}.wav`;
  await runFfmpeg(['-v', 'error', '-y', '-i', resolve(sharedMediaDir, clip), '-t', String(seconds), '-vn', '-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', tmp]);
  await rename(tmp, out);
  return out;
}

function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}
