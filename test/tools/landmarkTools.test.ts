import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { motionFixtures } from '../../shared/src/motion/testdata/motionFixtures';
import { readBrowserLandmarks, writeBrowserLandmarks } from './landmarks/browserLandmarksFile';
import { extractBrowserLandmarks, REPO_ROOT } from './landmarks/extractBrowserLandmarks';
import { LandmarkPage } from './landmarks/LandmarkPage';

const CLIP = join(REPO_ROOT, '../shared/media/d12.mp4');
const run = promisify(execFile);

describe('browser landmark tools (real Chromium, real MediaPipe model)', () => {
  let dir: string | undefined;
  let page: LandmarkPage | undefined;
  afterEach(async () => {
    await page?.close();
    page = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('extracts 478 landmarks, a matrix and 52 blendshapes per frame with nothing loaded from other hosts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'landmarks-test-'));
    const data = await extractBrowserLandmarks({ clip: CLIP, frames: 6, cacheDir: dir, useCache: false });
    expect(data.frameCount).toBe(6);
    expect(data.trackedCount).toBe(6);
    expect([data.width, data.height, data.fps]).toEqual([512, 512, 25]);
    expect(data.blendshapeNames).toHaveLength(52);
    for (const f of data.frames) {
      expect(f.present).toBe(true);
      const lm = f.landmarks!;
      // A face in the middle of the frame, iris centres inside the face.
      for (let j = 0; j < 478; j++) {
        expect(lm[j * 3]!).toBeGreaterThan(0);
        expect(lm[j * 3]!).toBeLessThan(1);
      }
      expect(f.matrix![15]).toBeCloseTo(1, 6); // column-major 4x4 with translation in 12..14
      expect(f.matrix![14]!).toBeLessThan(0); // the face is in front of the camera (-z)
      for (const b of f.blendshapes!) expect(b >= 0 && b <= 1).toBe(true);
    }
    // Consecutive frames of a talking head move a little, not a lot.
    const a = data.frames[0]!.landmarks!, b = data.frames[1]!.landmarks!;
    const moved = Math.hypot((a[1]! - b[1]!) * 512, (a[2]! - b[2]!) * 512);
    expect(moved).toBeLessThan(20);

    // Both file layouts round-trip.
    for (const ext of ['json', 'bin']) {
      await writeBrowserLandmarks(join(dir, `out.${ext}`), data);
      const back = await readBrowserLandmarks(join(dir, `out.${ext}`));
      expect(back.frames[3]!.landmarks).toEqual(data.frames[3]!.landmarks!.map((v) => Math.fround(v)));
    }
  });

  it('tracks a phone clip with a 90° display rotation in every frame, at its displayed size (bug report)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'landmarks-test-'));
    const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', '-nostdin', ...args]);
    await ffmpeg('-i', join(REPO_ROOT, '../shared/media/d10.mp4'), '-frames:v', '10', '-vf', 'crop=512:384:0:40', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'land.mp4'));
    await ffmpeg('-i', join(dir, 'land.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', join(dir, 'rot90.mp4'));
    const data = await extractBrowserLandmarks({ clip: join(dir, 'rot90.mp4'), cacheDir: dir, useCache: false });
    expect([data.width, data.height]).toEqual([384, 512]);
    expect(data.frameCount).toBe(10);
    expect(data.trackedCount).toBe(10); // 0 of 10 when frames were reshaped at the coded 512x384
  });

  it('decodes the determinism vectors in Chromium bit-identically to Node', async () => {
    page = await LandmarkPage.create();
    const hashes = await page.page.evaluate((hex) => window.decodeMotionHex(hex), motionFixtures.vectors.map((v) => v.packetHex));
    expect(hashes).toEqual(motionFixtures.vectors.map((v) => v.landmarksSha256));
    expect(page.foreignRequests).toEqual([]);
  });
});
