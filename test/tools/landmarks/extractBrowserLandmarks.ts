import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { BROWSER_LANDMARKS_FORMAT } from './browserLandmarksFormat';
import type { BrowserLandmarkFrame, BrowserLandmarks } from './browserLandmarksFormat';
import { readBrowserLandmarks, writeBrowserLandmarks } from './browserLandmarksFile';
import { FfmpegFrameReader } from './FfmpegFrameReader';
import { DEFAULT_MODEL_PATH, LandmarkPage, REPO_ROOT } from './LandmarkPage';
import { probeClip } from './probeClip';

export { DEFAULT_MODEL_PATH, REPO_ROOT };
export const DEFAULT_CACHE_DIR = resolve(REPO_ROOT, '.data/landmarks');
const TASKS_VISION_VERSION = '@mediapipe/tasks-vision@0.10.35';

export type ExtractOptions = {
  clip: string;
  /** Only the first N frames. */
  frames?: number;
  modelPath?: string;
  /** Cache folder (gitignored); outputs are keyed by the clip's sha256 and the frame limit. */
  cacheDir?: string;
  useCache?: boolean;
  log?: (message: string) => void;
};

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function cachePathFor(cacheDir: string, clip: string, clipSha256: string, frames?: number): string {
  return join(cacheDir, `${basename(clip, extname(clip))}-${clipSha256.slice(0, 16)}-${frames ?? 'all'}.json`);
}

export async function extractBrowserLandmarks(options: ExtractOptions): Promise<BrowserLandmarks> {
  const log = options.log ?? (() => {});
  const clip = resolve(options.clip);
  const modelPath = resolve(options.modelPath ?? DEFAULT_MODEL_PATH);
  const clipSha256 = await sha256File(clip);
  const cachePath = cachePathFor(options.cacheDir ?? DEFAULT_CACHE_DIR, clip, clipSha256, options.frames);
  if (options.useCache !== false && existsSync(cachePath)) {
    log(`cached: ${cachePath}`);
    return readBrowserLandmarks(cachePath);
  }
  const info = await probeClip(clip);
  const maxFrames = options.frames ?? info.frameCount ?? 100_000;
  const reader = FfmpegFrameReader.create(clip, info, maxFrames);
  // A failure reading frames reaches the page as an HTTP 500; keep it to report it as it was.
  let readError: unknown;
  const nextFrame = async (): Promise<Buffer | null> => {
    try {
      const frame = await reader.next();
      if (frame && (frame.width !== info.width || frame.height !== info.height)) {
        throw new Error(`${clip}: ffmpeg produced a ${frame.width}x${frame.height} frame, the clip displays at ${info.width}x${info.height}`);
      }
      return frame?.data ?? null;
    } catch (error) {
      readError ??= error;
      throw error;
    }
  };
  const results = new Map<number, Float32Array>();
  let landmarkPage: LandmarkPage | undefined;
  try {
    landmarkPage = await LandmarkPage.create({ modelPath, frames: { next: nextFrame, results } });
    const { page, foreignRequests: foreign, pageErrors } = landmarkPage;
    log(`tracking ${clip} (${info.width}x${info.height} @ ${info.fps} fps, up to ${maxFrames} frames) in Chromium`);
    const summary = await page
      .evaluate((o) => window.runExtraction(o), { frameCount: maxFrames, width: info.width, height: info.height, fps: info.fps })
      .catch((error: unknown) => {
        throw readError ?? error;
      });
    if (readError) throw readError;
    if (foreign.length) throw new Error(`the page tried to reach foreign hosts: ${foreign.join(', ')}`);
    if (pageErrors.length) log(`page errors: ${pageErrors.join('; ')}`);
    const frames: BrowserLandmarkFrame[] = [];
    for (let i = 0; i < summary.frames; i++) {
      const r = results.get(i);
      const present = !!r && r.length === 478 * 3 + 16 + 52;
      frames.push({
        index: i,
        timestampMs: (i * 1000) / info.fps,
        present,
        landmarks: present ? Array.from(r.subarray(0, 478 * 3)) : null,
        matrix: present ? Array.from(r.subarray(478 * 3, 478 * 3 + 16)) : null,
        blendshapes: present ? Array.from(r.subarray(478 * 3 + 16)) : null,
      });
    }
    const data: BrowserLandmarks = {
      format: BROWSER_LANDMARKS_FORMAT,
      clip: basename(clip),
      clipSha256,
      width: info.width,
      height: info.height,
      fps: info.fps,
      frameCount: frames.length,
      trackedCount: summary.tracked,
      meanDetectMs: summary.meanDetectMs,
      tracker: { package: TASKS_VISION_VERSION, modelSha256: await sha256File(modelPath), delegate: 'CPU' },
      blendshapeNames: [...summary.blendshapeNames],
      createdAt: new Date().toISOString(),
      frames,
    };
    await writeBrowserLandmarks(cachePath, data);
    log(`tracked ${summary.tracked}/${frames.length} frames, ${summary.meanDetectMs.toFixed(1)} ms/frame; cached ${cachePath}`);
    return data;
  } finally {
    await landmarkPage?.close();
    reader.close();
  }
}

