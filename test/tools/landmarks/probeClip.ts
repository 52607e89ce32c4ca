import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

const ffprobeSchema = z.object({
  streams: z
    .array(
      z.object({
        width: z.number().int().nonnegative(),
        height: z.number().int().nonnegative(),
        r_frame_rate: z.string(),
        nb_frames: z.string().optional(),
        sample_aspect_ratio: z.string().optional(),
        tags: z.object({ rotate: z.string().optional() }).passthrough().optional(),
        side_data_list: z.array(z.object({ rotation: z.number().optional() }).passthrough()).optional(),
      }),
    )
    .min(1),
  format: z.object({ format_name: z.string() }),
});

const frameTagsSchema = z.object({
  frames: z.array(z.object({ tags: z.object({ Orientation: z.string().optional() }).passthrough().optional() })),
});

/**
 * A clip's (or still image's) first video stream as a player shows it.
 * `width`/`height`: the displayed size (after rotation and square pixels), which is the size of
 * every frame FfmpegFrameReader gives. `codedWidth`/`codedHeight`: the stored size. `rotation`:
 * clockwise display rotation in degrees (0/90/180/270; a video's display matrix, an image's EXIF
 * orientation). `sampleAspectRatio`: stored pixel aspect (1 when square or unknown).
 * `exifOrientation`: an image's EXIF orientation tag 1..8 (1 for videos). `isImage`: a still image.
 */
export type ClipInfo = {
  width: number;
  height: number;
  fps: number;
  frameCount: number | null;
  codedWidth: number;
  codedHeight: number;
  rotation: 0 | 90 | 180 | 270;
  sampleAspectRatio: number;
  exifOrientation: number;
  isImage: boolean;
};

/**
 * ffmpeg filter making pixels square after autorotation: the side the sample aspect ratio stretches
 * is upsampled (SAR 4:3 at 384x384 → 512x384), never the other shrunk; `sar` is 1 when unknown.
 * The same expression as models/avatar_ml/landmarks/video_io.py.
 */
export const SQUARE_PIXELS_FILTER =
  "scale=w='if(gte(sar,1),round(iw*sar),iw)':h='if(gte(sar,1),ih,round(ih/sar))':flags=bicubic,setsar=1";

/** ffmpeg filters that turn an image stored with EXIF orientation 1..8 upright (empty for 1). */
export function exifOrientationFilters(orientation: number): string[] {
  switch (orientation) {
    case 2: return ['hflip'];
    case 3: return ['hflip', 'vflip'];
    case 4: return ['vflip'];
    case 5: return ['transpose=cclock_flip'];
    case 6: return ['transpose=clock'];
    case 7: return ['transpose=clock_flip'];
    case 8: return ['transpose=cclock'];
    default: return [];
  }
}

/** C `round` (half away from zero), as in ffmpeg's expressions. */
function cRound(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** The displayed (width, height) of a coded frame rotated by `rotation` and made square-pixelled. */
export function displaySize(codedWidth: number, codedHeight: number, rotation: number, sampleAspectRatio: number): { width: number; height: number } {
  let [w, h, sar] = [codedWidth, codedHeight, sampleAspectRatio];
  if (rotation % 180 === 90) [w, h, sar] = [h, w, 1 / sar];
  return sar >= 1 ? { width: cRound(w * sar), height: h } : { width: w, height: cRound(h / sar) };
}

function parseRatio(text: string | undefined): number {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? Number(m[1]) / Number(m[2]) : 1;
}

function toQuarterTurn(degrees: number): 0 | 90 | 180 | 270 {
  const d = ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
  return d as 0 | 90 | 180 | 270;
}

const EXIF_ROTATION: Record<number, 0 | 90 | 180 | 270> = { 3: 180, 5: 90, 6: 90, 7: 270, 8: 270 };

/**
 * Probes a clip or image with ffprobe. Throws when ffprobe fails, there is no video stream, or its
 * size is degenerate (0 wide or high).
 */
export async function probeClip(clip: string): Promise<ClipInfo> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'stream=width,height,r_frame_rate,nb_frames,sample_aspect_ratio:stream_tags=rotate:stream_side_data:format=format_name',
    '-of', 'json', clip,
  ]);
  const probed = ffprobeSchema.parse(JSON.parse(stdout));
  const stream = probed.streams[0]!;
  if (stream.width < 1 || stream.height < 1) throw new Error(`${clip}: degenerate frame size ${stream.width}x${stream.height}`);
  const formatName = probed.format.format_name;
  const isImage = formatName === 'image2' || formatName.endsWith('_pipe');
  const [num, den] = stream.r_frame_rate.split('/').map(Number);
  const fps = num && den ? num / den : 25;
  const sampleAspectRatio = parseRatio(stream.sample_aspect_ratio);
  let rotation: 0 | 90 | 180 | 270 = 0;
  let exifOrientation = 1;
  if (isImage) {
    exifOrientation = await probeExifOrientation(clip);
    rotation = EXIF_ROTATION[exifOrientation] ?? 0;
  } else {
    // ffprobe prints the display matrix's counter-clockwise angle; a player turns by its opposite.
    const matrixRotation = stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
    if (matrixRotation !== undefined) rotation = toQuarterTurn(-matrixRotation);
    else if (stream.tags?.rotate && /^-?\d+$/.test(stream.tags.rotate)) rotation = toQuarterTurn(Number(stream.tags.rotate));
  }
  const { width, height } = isImage
    ? rotation % 180 === 90 ? { width: stream.height, height: stream.width } : { width: stream.width, height: stream.height }
    : displaySize(stream.width, stream.height, rotation, sampleAspectRatio);
  const frameCount = isImage ? 1 : stream.nb_frames && /^\d+$/.test(stream.nb_frames) ? Number(stream.nb_frames) : null;
  return { width, height, fps, frameCount, codedWidth: stream.width, codedHeight: stream.height, rotation, sampleAspectRatio, exifOrientation, isImage };
}

/** An image's EXIF orientation (1..8) as ffmpeg's decoder reads it; 1 when it has none. */
async function probeExifOrientation(image: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#1', '-show_entries', 'frame_tags=Orientation', '-of', 'json', image]);
  const value = Number(frameTagsSchema.parse(JSON.parse(stdout)).frames[0]?.tags?.Orientation ?? '1');
  return Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
}
