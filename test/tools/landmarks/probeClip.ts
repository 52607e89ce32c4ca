import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);

const ffprobeSchema = z.object({
  streams: z
    .array(z.object({ width: z.number().int().positive(), height: z.number().int().positive(), r_frame_rate: z.string(), nb_frames: z.string().optional() }))
    .min(1),
});

export type ClipInfo = { width: number; height: number; fps: number; frameCount: number | null };

/** Size, frame rate and (when the container says) frame count of a clip's first video stream. */
export async function probeClip(clip: string): Promise<ClipInfo> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate,nb_frames', '-of', 'json', clip]);
  const stream = ffprobeSchema.parse(JSON.parse(stdout)).streams[0]!;
  const [num, den] = stream.r_frame_rate.split('/').map(Number);
  const fps = num && den ? num / den : 25;
  const frameCount = stream.nb_frames && /^\d+$/.test(stream.nb_frames) ? Number(stream.nb_frames) : null;
  return { width: stream.width, height: stream.height, fps, frameCount };
}
