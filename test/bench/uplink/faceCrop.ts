import type { BrowserLandmarks } from '../../tools/landmarks/browserLandmarksFormat';

/** Square crop in image pixels, fixed for the whole clip. */
export type FaceCrop = { x: number; y: number; side: number };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The benchmark's face crop, one per clip: centred on the median landmark bounding-box centre,
 * side = 1.4 × the median per-frame bounding square of the landmarks (x, y), clamped to the image
 * and to even pixels (for yuv420). Landmark errors are scaled by 256 / side; VP8 encodes the same
 * crop scaled to 256×256.
 */
export function clipFaceCrop(data: BrowserLandmarks): FaceCrop {
  const centresX: number[] = [];
  const centresY: number[] = [];
  const sides: number[] = [];
  for (const f of data.frames) {
    if (!f.landmarks) continue;
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let j = 0; j < 478; j++) {
      const x = f.landmarks[j * 3]! * data.width, y = f.landmarks[j * 3 + 1]! * data.height;
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
    centresX.push((minX + maxX) / 2);
    centresY.push((minY + maxY) / 2);
    sides.push(Math.max(maxX - minX, maxY - minY));
  }
  if (!sides.length) throw new Error(`${data.clip}: no tracked frames`);
  let side = Math.min(1.4 * median(sides), data.width, data.height);
  side = Math.floor(side / 2) * 2;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const x = Math.floor(clamp(median(centresX) - side / 2, data.width - side) / 2) * 2;
  const y = Math.floor(clamp(median(centresY) - side / 2, data.height - side) / 2) * 2;
  return { x, y, side };
}
