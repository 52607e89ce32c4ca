// CLI: npx tsx test/tools/extract-browser-landmarks.ts --clip <mp4> [--frames N] [--out file.json|file.bin]
//      [--model path/to/face_landmarker.task] [--no-cache]
// Runs the clip through the product's FaceTracker (MediaPipe 0.10.35, CPU) in headless Chromium and
// writes per-frame landmarks, matrix and blendshapes (format: test/tools/landmarks/browserLandmarksFormat.ts).
// Results are cached in .data/landmarks/ keyed by the clip's sha256.
import { parseArgs } from 'node:util';
import { writeBrowserLandmarks } from './landmarks/browserLandmarksFile';
import { extractBrowserLandmarks } from './landmarks/extractBrowserLandmarks';

const { values } = parseArgs({
  options: {
    clip: { type: 'string' },
    frames: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
  },
});

if (!values.clip) {
  console.error('usage: tsx test/tools/extract-browser-landmarks.ts --clip <mp4> [--frames N] [--out file.json|file.bin] [--model task] [--no-cache]');
  process.exit(2);
}
const frames = values.frames === undefined ? undefined : Number(values.frames);
if (frames !== undefined && !(Number.isInteger(frames) && frames > 0)) {
  console.error('--frames must be a positive integer');
  process.exit(2);
}

const data = await extractBrowserLandmarks({
  clip: values.clip,
  frames,
  modelPath: values.model,
  useCache: !values['no-cache'],
  log: (m) => console.error(m),
});
if (values.out) await writeBrowserLandmarks(values.out, data);
console.log(JSON.stringify({ clip: data.clip, frames: data.frameCount, tracked: data.trackedCount, meanDetectMs: Number(data.meanDetectMs.toFixed(2)), out: values.out ?? null }));
