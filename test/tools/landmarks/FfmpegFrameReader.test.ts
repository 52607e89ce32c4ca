import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegFrameReader } from './FfmpegFrameReader';
import type { RgbaFrame } from './FfmpegFrameReader';
import { displaySize, probeClip } from './probeClip';
import { REPO_ROOT } from './LandmarkPage';

const run = promisify(execFile);
const MEDIA = join(REPO_ROOT, '../shared/media');
const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', '-nostdin', ...args]);

async function readAll(path: string, maxFrames?: number): Promise<RgbaFrame[]> {
  const reader = FfmpegFrameReader.create(path, await probeClip(path), maxFrames);
  const frames: RgbaFrame[] = [];
  try {
    for (let f = await reader.next(); f; f = await reader.next()) frames.push(f);
  } finally {
    reader.close();
  }
  return frames;
}

/** Frame `f` turned `quarterTurns` × 90° clockwise (RGBA). */
function rotateClockwise(f: RgbaFrame, quarterTurns: number): RgbaFrame {
  let cur = f;
  for (let t = 0; t < ((quarterTurns % 4) + 4) % 4; t++) {
    const { width: w, height: h, data } = cur;
    const out = Buffer.alloc(data.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) data.copy(out, ((x * h) + (h - 1 - y)) * 4, (y * w + x) * 4, (y * w + x) * 4 + 4);
    }
    cur = { width: h, height: w, data: out };
  }
  return cur;
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/** Rewrites the EXIF orientation tag of a JPEG in place (pixels untouched). */
function withOrientation(jpeg: Buffer, value: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i < b.length; i += 2 + b.readUInt16BE(i + 2)) {
    if (b[i + 1] === 0xe1 && b.toString('latin1', i + 4, i + 10) === 'Exif\0\0') {
      const t = i + 10;
      const be = b.toString('latin1', t, t + 2) === 'MM';
      const u16 = (o: number) => (be ? b.readUInt16BE(o) : b.readUInt16LE(o));
      const ifd = t + (be ? b.readUInt32BE(t + 4) : b.readUInt32LE(t + 4));
      for (let k = 0; k < u16(ifd); k++) {
        const entry = ifd + 2 + 12 * k;
        if (u16(entry) !== 0x0112) continue;
        if (be) b.writeUInt16BE(value, entry + 8);
        else b.writeUInt16LE(value, entry + 8);
        return b;
      }
    }
  }
  throw new Error('no EXIF orientation tag');
}

describe('FfmpegFrameReader and probeClip (real ffmpeg, the phone-video bug report)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'frame-reader-'));
    // The report's clips: coded 512x384, then the same stream with a display rotation.
    await ffmpeg('-i', join(MEDIA, 'd10.mp4'), '-frames:v', '4', '-vf', 'crop=512:384:0:40', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'land.mp4'));
    for (const deg of [90, 180, 270]) await ffmpeg('-i', join(dir, 'land.mp4'), '-c', 'copy', '-metadata:s:v:0', `rotate=${deg}`, join(dir, `rot${deg}.mp4`));
    await ffmpeg('-i', join(dir, 'land.mp4'), '-vf', 'scale=384:384,setsar=4/3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'sar43.mp4'));
    await ffmpeg('-i', join(dir, 'land.mp4'), '-vf', 'scale=512:288,setsar=3/4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'sar34.mp4'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes the displayed size from rotation and sample aspect ratio', () => {
    expect(displaySize(512, 384, 90, 1)).toEqual({ width: 384, height: 512 });
    expect(displaySize(512, 384, 180, 1)).toEqual({ width: 512, height: 384 });
    expect(displaySize(384, 384, 0, 4 / 3)).toEqual({ width: 512, height: 384 });
    expect(displaySize(512, 288, 0, 3 / 4)).toEqual({ width: 512, height: 384 });
    expect(displaySize(1440, 1080, 0, 4 / 3)).toEqual({ width: 1920, height: 1080 });
  });

  it.each([90, 180, 270])('reads a clip with a %i° display rotation turned, at the size ffmpeg produced', async (deg) => {
    const land = await readAll(join(dir, 'land.mp4'));
    const info = await probeClip(join(dir, `rot${deg}.mp4`));
    // ffmpeg writes `rotate=D` as a display matrix turning the picture D° counter-clockwise.
    expect(info).toMatchObject({ codedWidth: 512, codedHeight: 384, rotation: (360 - deg) % 360 });
    expect([info.width, info.height]).toEqual(deg === 180 ? [512, 384] : [384, 512]);
    const turned = await readAll(join(dir, `rot${deg}.mp4`));
    expect(turned).toHaveLength(4);
    for (const [i, f] of turned.entries()) {
      expect([f.width, f.height]).toEqual([info.width, info.height]);
      // The same coded stream: exactly the unrotated frame turned clockwise by info.rotation.
      expect(f.data.equals(rotateClockwise(land[i]!, info.rotation / 90).data)).toBe(true);
    }
  });

  it.each(['sar43', 'sar34'])('resamples non-square pixels (%s) to the displayed 512x384 picture', async (name) => {
    const info = await probeClip(join(dir, `${name}.mp4`));
    expect([info.width, info.height]).toEqual([512, 384]);
    expect(info.sampleAspectRatio).not.toBe(1);
    const [land, frames] = [await readAll(join(dir, 'land.mp4'), 1), await readAll(join(dir, `${name}.mp4`), 1)];
    expect([frames[0]!.width, frames[0]!.height]).toEqual([512, 384]);
    expect(meanAbsDiff(frames[0]!.data, land[0]!.data)).toBeLessThan(6); // the same picture, not a scrambled one
  });

  it('turns a JPEG upright by its EXIF orientation', async () => {
    const src = await readFile(join(MEDIA, 's0.jpg'));
    const [stored] = await readAll(join(MEDIA, 's0.jpg'));
    expect([stored!.width, stored!.height]).toEqual([600, 704]);
    for (const [value, turns] of [[1, 0], [3, 2], [6, 1], [8, 3]] as const) {
      const path = join(dir, `o${value}.jpg`);
      await writeFile(path, withOrientation(src, value));
      const info = await probeClip(path);
      expect(info).toMatchObject({ isImage: true, exifOrientation: value, frameCount: 1 });
      const frames = await readAll(path);
      expect(frames).toHaveLength(1);
      expect([frames[0]!.width, frames[0]!.height]).toEqual([info.width, info.height]);
      expect(frames[0]!.data.equals(rotateClockwise(stored!, turns).data)).toBe(true);
    }
    // mirrored orientations: 2 = left-right mirror
    await writeFile(join(dir, 'o2.jpg'), withOrientation(src, 2));
    const [mirrored] = await readAll(join(dir, 'o2.jpg'));
    const w = stored!.width;
    for (const x of [0, 17, 300]) {
      expect(mirrored!.data.subarray(x * 4, x * 4 + 4).equals(stored!.data.subarray((w - 1 - x) * 4, (w - x) * 4))).toBe(true);
    }
  });

  it('refuses what it cannot read with the reason', async () => {
    await writeFile(join(dir, 'junk.mp4'), 'not a video');
    await expect(probeClip(join(dir, 'junk.mp4'))).rejects.toThrow();
    const reader = FfmpegFrameReader.create(join(dir, 'junk.mp4'), { isImage: false, exifOrientation: 1 });
    await expect(reader.next()).rejects.toThrow(/ffmpeg exited 1: .*Invalid data/s);
    reader.close();
  });
});
