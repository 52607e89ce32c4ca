/**
 * Upload test inputs made from the project's real media (../shared/media) with ffmpeg and PIL,
 * once per machine, into $TMPDIR/avatar-call-onboarding-inputs/v3 (written to a temp folder and
 * renamed, so a half-made set is never used):
 *
 *   portrait.jpg      s0.jpg as is (600×704, one face)
 *   rot90-exif.jpg    s0.jpg stored rotated 90° counter-clockwise with EXIF orientation 6 (shown upright)
 *   two-faces.jpg     two copies of s0.jpg side by side
 *   tiny-face.jpg     s0.jpg shrunk to 330×387 (the face ~57 px wide, under the 80 px minimum)
 *   no-face.jpg       a crop of s0.jpg's background (no face)
 *   fake.jpg          text named .jpg
 *   pixel-bomb.png    a real 20000×20000 PNG of zeros (~400 MB decoded, ~400 KB on disk)
 *   clip-20s.mp4      d10.mp4 forwards then backwards, cut to 20 s (H.264; d10 is 15 s long)
 *   clip-65s.mp4      d10.mp4 looped to 65 s at 160×120 (too long)
 *   mjpeg.mov         2 s of d10.mp4 as Motion JPEG in QuickTime (unsupported codec)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const sharedMedia = join(repoRoot, '../shared/media');
const python = join(repoRoot, 'models/.venv/bin/python');

export type OnboardingInputs = Record<
  'portrait' | 'rot90Exif' | 'twoFaces' | 'tinyFace' | 'noFace' | 'fake' | 'pixelBomb' | 'clip20s' | 'clip65s' | 'mjpeg',
  string
>;

const names: OnboardingInputs = {
  portrait: 'portrait.jpg',
  rot90Exif: 'rot90-exif.jpg',
  twoFaces: 'two-faces.jpg',
  tinyFace: 'tiny-face.jpg',
  noFace: 'no-face.jpg',
  fake: 'fake.jpg',
  pixelBomb: 'pixel-bomb.png',
  clip20s: 'clip-20s.mp4',
  clip65s: 'clip-65s.mp4',
  mjpeg: 'mjpeg.mov',
};

const PIL_SCRIPT = `
import sys, zlib, struct
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert('RGB')
w, h = im.size
# EXIF orientation 6: the viewer rotates 90 deg clockwise, so store it rotated counter-clockwise.
exif = Image.Exif(); exif[0x0112] = 6
im.rotate(90, expand=True).save(out + '/rot90-exif.jpg', quality=92, exif=exif)
two = Image.new('RGB', (w * 2, h)); two.paste(im, (0, 0)); two.paste(im, (w, 0)); two.save(out + '/two-faces.jpg', quality=92)
im.resize((330, 387), Image.LANCZOS).save(out + '/tiny-face.jpg', quality=92)
im.crop((0, h - 160, 160, h)).resize((320, 320)).save(out + '/no-face.jpg', quality=92)
# A real PNG: 20000x20000 8-bit grey, all zeros, deflated row by row.
side = 20000
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
z = zlib.compressobj(9); row = b'\\0' * (side + 1); parts = []
for _ in range(side): parts.append(z.compress(row))
parts.append(z.flush())
with open(out + '/pixel-bomb.png', 'wb') as f:
    f.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', side, side, 8, 0, 0, 0, 0)) + chunk(b'IDAT', b''.join(parts)) + chunk(b'IEND', b''))
`;

let pending: Promise<OnboardingInputs> | undefined;

/** Makes (or reuses) the inputs; resolves with absolute paths. */
export function onboardingInputs(): Promise<OnboardingInputs> {
  pending ??= make();
  return pending;
}

async function make(): Promise<OnboardingInputs> {
  const dir = join(tmpdir(), 'avatar-call-onboarding-inputs', 'v3');
  const paths = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, join(dir, v)])) as OnboardingInputs;
  if (existsSync(join(dir, 'complete'))) return paths;
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const s0 = join(sharedMedia, 's0.jpg');
  const d10 = join(sharedMedia, 'd10.mp4');
  const ff = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
  await ff('-i', s0, '-c', 'copy', join(work, 'portrait.jpg')).catch(() => run('cp', [s0, join(work, 'portrait.jpg')]));
  await run(python, ['-c', PIL_SCRIPT, s0, work], { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(join(work, 'fake.jpg'), 'This is not a JPEG, only a text file with a .jpg name.\n'.repeat(20));
  await ff('-i', d10, '-filter_complex', '[0:v]split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1[v]', '-map', '[v]', '-t', '20',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an', join(work, 'clip-20s.mp4'));
  await ff('-stream_loop', '-1', '-i', d10, '-t', '65', '-vf', 'scale=160:120', '-r', '10', '-c:v', 'libx264', '-preset', 'ultrafast', '-an', join(work, 'clip-65s.mp4'));
  await ff('-i', d10, '-t', '2', '-c:v', 'mjpeg', '-q:v', '5', '-an', join(work, 'mjpeg.mov'));
  await writeFile(join(work, 'complete'), new Date().toISOString());
  await rm(dir, { recursive: true, force: true });
  await rename(work, dir);
  return paths;
}
