import { decodeMotionPacket, LANDMARK_REGIONS, MotionEncoder } from '@shared/motion';
import type { MotionBasis } from '@shared/motion';
import type { BrowserLandmarks } from '../../tools/landmarks/browserLandmarksFormat';
import type { FaceCrop } from './faceCrop';

export type MotionCodecFigures = {
  frames: number;
  packetBytes: number;
  /** Full packet bytes (our header included; SCTP/DTLS/UDP/IP not) × 30 fps × 8 / 1000. */
  kbpsAt30: number;
  meanPx: number;
  p95Px: number;
  maxPx: number;
  mouthMeanPx: number;
  eyesMeanPx: number;
  irisMeanPx: number;
  encodeMs: number;
  decodeMs: number;
};

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Encodes every tracked frame, decodes it, and measures per-landmark 2D error (x, y) in pixels of
 * the 256×256 face crop (pooled over all landmarks of all frames for mean and p95).
 */
export function measureMotionCodec(data: BrowserLandmarks, basis: MotionBasis, crop: FaceCrop): MotionCodecFigures {
  const encoder = new MotionEncoder(basis);
  const toCrop = 256 / crop.side;
  const errors: number[] = [];
  const regionSums = { mouth: 0, eyes: 0, iris: 0 };
  let bytes = 0, frames = 0, encodeMs = 0, decodeMs = 0;
  for (const f of data.frames) {
    if (!f.landmarks) continue;
    const landmarks = Float32Array.from(f.landmarks);
    const t0 = performance.now();
    const packet = encoder.encode({
      captureTimeMs: f.timestampMs, landmarks, transformMatrix: Float32Array.from(f.matrix ?? new Array(16).fill(0)),
      imageWidth: data.width, imageHeight: data.height,
    });
    const t1 = performance.now();
    const decoded = decodeMotionPacket(packet, basis);
    decodeMs += performance.now() - t1;
    encodeMs += t1 - t0;
    if (!decoded.ok) throw new Error(`frame ${f.index}: ${decoded.error} ${decoded.message}`);
    const out = decoded.frame.landmarks;
    const frameErrors = new Float64Array(478);
    for (let j = 0; j < 478; j++) {
      const dx = (out[j * 3]! - landmarks[j * 3]!) * data.width;
      const dy = (out[j * 3 + 1]! - landmarks[j * 3 + 1]!) * data.height;
      frameErrors[j] = Math.hypot(dx, dy) * toCrop;
      errors.push(frameErrors[j]!);
    }
    for (const region of ['mouth', 'eyes', 'iris'] as const) {
      let s = 0;
      for (const j of LANDMARK_REGIONS[region]) s += frameErrors[j]!;
      regionSums[region] += s / LANDMARK_REGIONS[region].length;
    }
    bytes += packet.byteLength;
    frames++;
  }
  // Figures over no frames would be NaN and read as a result: measuring nothing is an error.
  if (frames === 0) throw new Error(`${data.clip}: no frame with a face, nothing to measure`);
  const sorted = Float64Array.from(errors).sort();
  const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
  return {
    frames,
    packetBytes: bytes / frames,
    kbpsAt30: ((bytes / frames) * 30 * 8) / 1000,
    meanPx: mean,
    p95Px: percentile(sorted, 0.95),
    maxPx: sorted[sorted.length - 1]!,
    mouthMeanPx: regionSums.mouth / frames,
    eyesMeanPx: regionSums.eyes / frames,
    irisMeanPx: regionSums.iris / frames,
    encodeMs: encodeMs / frames,
    decodeMs: decodeMs / frames,
  };
}
