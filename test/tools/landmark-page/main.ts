// Headless page driven by test/tools/landmarks/extractBrowserLandmarks.ts: pulls raw RGBA frames
// from the tool's local server, runs them through the product's FaceTracker and posts each result
// back as float32 (landmarks, matrix, blendshapes) so nothing large goes through page.evaluate.
import { FaceTracker } from '../../../client/src/tracking/FaceTracker';
import { decodeMotionPacket, loadMotionBasis } from '../../../shared/src/motion';

type RunOptions = { frameCount: number; width: number; height: number; fps: number };
type RunSummary = { frames: number; tracked: number; meanDetectMs: number; blendshapeNames: readonly string[] };

declare global {
  interface Window {
    runExtraction: (options: RunOptions) => Promise<RunSummary>;
    /** Decodes motion packets (hex) with the shared codec; returns sha256 (hex) of each float32 landmark array. */
    decodeMotionHex: (packets: string[]) => Promise<string[]>;
  }
}

window.runExtraction = async ({ frameCount, width, height, fps }) => {
  const tracker = await FaceTracker.create({ wasmBaseUrl: '/wasm', modelUrl: '/model/face_landmarker.task' });
  let tracked = 0;
  let detectMs = 0;
  let frames = 0;
  try {
    for (let i = 0; i < frameCount; i++) {
      const response = await fetch(`/frame/${i}`);
      if (response.status === 404) break; // the clip ended before the container's frame count
      if (!response.ok) throw new Error(`frame ${i}: HTTP ${response.status}`);
      const rgba = new Uint8ClampedArray(await response.arrayBuffer());
      const image = new ImageData(rgba, width, height);
      const t0 = performance.now();
      const face = tracker.track(image, (i * 1000) / fps);
      detectMs += performance.now() - t0;
      let body: Float32Array<ArrayBuffer> = new Float32Array(0);
      if (face) {
        tracked++;
        body = new Float32Array(face.landmarks.length + 16 + face.blendshapes.length);
        body.set(face.landmarks, 0);
        body.set(face.transformMatrix, face.landmarks.length);
        body.set(face.blendshapes, face.landmarks.length + 16);
      }
      const posted = await fetch(`/result/${i}`, { method: 'POST', body });
      if (!posted.ok) throw new Error(`result ${i}: HTTP ${posted.status}`);
      frames++;
    }
    return { frames, tracked, meanDetectMs: detectMs / Math.max(1, frames), blendshapeNames: tracker.blendshapeNames };
  } finally {
    tracker.close();
  }
};

// Lets tests check that the browser decodes packets bit-identically to Node.
window.decodeMotionHex = async (packets) => {
  const basis = loadMotionBasis();
  const out: string[] = [];
  for (const hex of packets) {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    const r = decodeMotionPacket(bytes, basis);
    if (!r.ok) {
      out.push(`error:${r.error}`);
      continue;
    }
    const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(r.frame.landmarks.buffer as ArrayBuffer, r.frame.landmarks.byteOffset, r.frame.landmarks.byteLength));
    out.push(Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''));
  }
  return out;
};
