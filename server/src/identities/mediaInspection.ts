/**
 * What an uploaded file is, decided from its content (never its name or the client's MIME type):
 * `file-type` sniffs the magic bytes, then an image's size comes from its header (no decoding)
 * and a clip's codec, size, rotation and duration from ffprobe's container/stream headers.
 * Everything outside the limits is refused with a plain-words `RegistryError`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileTypeFromFile } from 'file-type';
import { z } from 'zod';
import type { Config } from '../config';
import { readImageHeader } from './imageHeader';
import { RegistryError } from './RegistryError';

const execFileAsync = promisify(execFile);

export const IMAGE_TYPES = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' } as const;
export const VIDEO_TYPES = { 'video/mp4': 'mp4', 'video/webm': 'webm', 'video/quicktime': 'mov', 'video/x-m4v': 'mp4' } as const;
/** Video codecs the training tools decode reliably (what phones, browsers and cameras write). */
export const VIDEO_CODECS = ['h264', 'hevc', 'vp8', 'vp9', 'av1'] as const;

export type Inspected = {
  kind: 'portrait' | 'clip';
  mime: string;
  ext: string;
  /** Coded size (before rotation), pixels. */
  width: number;
  height: number;
  durationS: number | null;
  codec: string;
};

type UploadLimits = Config['onboarding']['uploads'];

export async function inspectUpload(path: string, limits: UploadLimits): Promise<Inspected> {
  const type = await fileTypeFromFile(path);
  if (!type) {
    throw new RegistryError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The file is not an image or video we recognise. Upload a JPEG, PNG or WebP portrait, or an MP4, WebM or MOV clip.');
  }
  if (type.mime in IMAGE_TYPES) return inspectImage(path, type.mime as keyof typeof IMAGE_TYPES, limits);
  if (type.mime in VIDEO_TYPES) return inspectVideo(path, type.mime as keyof typeof VIDEO_TYPES, limits);
  throw new RegistryError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `The file is ${type.mime}, which is not accepted. Upload a JPEG, PNG or WebP portrait, or an MP4, WebM or MOV clip.`,
  );
}

async function inspectImage(path: string, mime: keyof typeof IMAGE_TYPES, limits: UploadLimits): Promise<Inspected> {
  const header = await readImageHeader(path);
  if (!header) throw new RegistryError(422, 'UNREADABLE_INPUT', `The ${IMAGE_TYPES[mime].toUpperCase()} image's header could not be read; the file is damaged or not really an image.`);
  const { width, height } = header;
  if (width < 1 || height < 1) throw new RegistryError(422, 'UNSUPPORTED_INPUT', `The image is ${width}×${height} pixels; it has no picture in it.`);
  if (width > limits.maxImageSide || height > limits.maxImageSide || width * height > limits.maxImagePixels) {
    throw new RegistryError(
      413,
      'IMAGE_TOO_LARGE',
      `The image is ${width}×${height} pixels (${(width * height / 1e6).toFixed(1)} megapixels); at most ${limits.maxImageSide} pixels a side and ${(limits.maxImagePixels / 1e6).toFixed(0)} megapixels are accepted.`,
    );
  }
  return { kind: 'portrait', mime, ext: IMAGE_TYPES[mime], width, height, durationS: null, codec: header.format };
}

const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        duration: z.string().optional(),
      }),
    )
    .default([]),
  format: z.object({ duration: z.string().optional(), format_name: z.string().optional() }).default({}),
});

async function inspectVideo(path: string, mime: keyof typeof VIDEO_TYPES, limits: UploadLimits): Promise<Inspected> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      'ffprobe',
      ['-v', 'error', '-probesize', '20000000', '-analyzeduration', '20000000', '-show_entries',
        'stream=codec_type,codec_name,width,height,duration:format=duration,format_name', '-of', 'json', path],
      { timeout: 30_000, maxBuffer: 1024 * 1024 },
    ));
  } catch (error) {
    throw new RegistryError(422, 'UNREADABLE_INPUT', 'The clip could not be read; the file is damaged or truncated.', { cause: error });
  }
  const probe = probeSchema.safeParse(JSON.parse(stdout || '{}'));
  if (!probe.success) throw new RegistryError(422, 'UNREADABLE_INPUT', 'The clip could not be read.');
  const video = probe.data.streams.find((s) => s.codec_type === 'video');
  if (!video) throw new RegistryError(422, 'UNSUPPORTED_INPUT', 'The file has no video track.');
  const codec = video.codec_name ?? 'unknown';
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) {
    throw new RegistryError(
      415,
      'UNSUPPORTED_CODEC',
      `The clip's video is coded as ${codec}, which is not accepted; use H.264, HEVC, VP8, VP9 or AV1 (what phones and browsers record).`,
    );
  }
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width < 1 || height < 1) throw new RegistryError(422, 'UNSUPPORTED_INPUT', `The clip's frames are ${width}×${height} pixels.`);
  if (width * height > limits.maxVideoPixels) {
    throw new RegistryError(413, 'VIDEO_TOO_LARGE', `The clip is ${width}×${height} pixels; at most ${limits.maxVideoPixels} pixels a frame (4K) are accepted.`);
  }
  let duration = Number(probe.data.format.duration ?? video.duration ?? NaN);
  // Browsers' MediaRecorder WebM has no duration in its header: read the packets' timestamps.
  if (!Number.isFinite(duration) || duration <= 0) duration = await lastPacketTime(path);
  if (!Number.isFinite(duration) || duration <= 0) throw new RegistryError(422, 'UNREADABLE_INPUT', 'The clip has no readable duration.');
  if (duration > limits.maxClipSeconds) {
    throw new RegistryError(
      422,
      'CLIP_TOO_LONG',
      `The clip is ${duration.toFixed(1)} s long; at most ${limits.maxClipSeconds} s are accepted. Trim it to the best ${Math.min(20, limits.maxClipSeconds)} s or so.`,
    );
  }
  return { kind: 'clip', mime, ext: VIDEO_TYPES[mime], width, height, durationS: duration, codec };
}

/** Largest video packet timestamp in seconds (no decoding), NaN when there is none. */
async function lastPacketTime(path: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path],
      { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
    );
    let max = NaN;
    for (const line of stdout.split('\n')) {
      const t = Number(line.split(',')[0]);
      if (Number.isFinite(t) && !(t <= max)) max = t;
    }
    return max;
  } catch {
    return NaN;
  }
}
