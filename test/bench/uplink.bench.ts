// npm run bench:uplink -- --clip <mp4> [--frames N] [--no-cache]
// Motion uplink benchmark: landmarks from the product's FaceTracker in headless Chromium (cached),
// through the shipped motion codec, against a VP8 baseline on the same 256×256 face crop, all in
// this run. Prints a table, then one final JSON line.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { loadMotionBasis } from '@shared/motion';
import { extractBrowserLandmarks, REPO_ROOT } from '../tools/landmarks/extractBrowserLandmarks';
import { clipFaceCrop } from './uplink/faceCrop';
import { measureMotionCodec } from './uplink/measureMotionCodec';
import { vp8BitrateForSsim } from './uplink/vp8Baseline';

const { values } = parseArgs({
  options: { clip: { type: 'string' }, frames: { type: 'string' }, 'no-cache': { type: 'boolean', default: false } },
});
if (!values.clip) {
  console.error('usage: npm run bench:uplink -- --clip <mp4> [--frames N] [--no-cache]');
  process.exit(2);
}
const frames = values.frames === undefined ? undefined : Number(values.frames);

const manifest = JSON.parse(readFileSync(`${REPO_ROOT}/shared/src/motion/basis/motionBasis.manifest.json`, 'utf8')) as {
  trainClips: { clip: string }[];
  heldOutClips: { clip: string }[];
};
const clipName = basename(values.clip);
const split = manifest.trainClips.some((c) => c.clip === clipName)
  ? 'train (fitted the basis)'
  : manifest.heldOutClips.some((c) => c.clip === clipName) ? 'held-out' : 'unseen';

const landmarks = await extractBrowserLandmarks({ clip: values.clip, frames, useCache: !values['no-cache'], log: (m) => console.error(m) });
const crop = clipFaceCrop(landmarks);
const motion = measureMotionCodec(landmarks, loadMotionBasis(), crop);
console.error('VP8 baseline: bisecting the bitrate for SSIM ≥ 0.95 …');
const vp8 = await vp8BitrateForSsim(values.clip, crop, landmarks.fps);

const f = (v: number, d = 3) => Number(v.toFixed(d));
const rows: [string, string, string][] = [
  ['clip', `${clipName} (${landmarks.width}x${landmarks.height} @ ${landmarks.fps} fps, ${motion.frames}/${landmarks.frameCount} frames tracked)`, ''],
  ['basis split', split, ''],
  ['landmarks', `browser: MediaPipe tasks-vision 0.10.35 CPU, ${f(landmarks.meanDetectMs, 1)} ms/frame`, ''],
  ['face crop', `${crop.side}px square at (${crop.x},${crop.y}) → 256x256 (1.4 × median bounding square, per clip)`, ''],
  ['packet bytes', `${f(motion.packetBytes, 1)} (full packet incl. 13-byte header; SCTP/DTLS/UDP/IP not counted)`, ''],
  ['motion kbps @30fps', `${f(motion.kbpsAt30, 2)} (= bytes × 30 × 8 / 1000)`, '≤ 16'],
  ['mean px', `${f(motion.meanPx)}`, '≤ 1.0'],
  ['p95 px', `${f(motion.p95Px)} (all landmarks of all frames)`, '≤ 1.5'],
  ['max px', `${f(motion.maxPx)}`, ''],
  ['mouth mean px', `${f(motion.mouthMeanPx)}`, ''],
  ['eyes mean px', `${f(motion.eyesMeanPx)} (iris ${f(motion.irisMeanPx)})`, ''],
  ['encode / decode ms', `${f(motion.encodeMs)} / ${f(motion.decodeMs)}`, ''],
  ['VP8 kbps @ SSIM≥0.95', `${f(vp8.kbps, 1)} (target ${vp8.targetKbps}k, SSIM ${vp8.ssim}, ${landmarks.fps} fps)`, ''],
  ['ratio VP8 / motion', `${f(vp8.kbps / motion.kbpsAt30, 1)}`, ''],
];
const width = Math.max(...rows.map((r) => r[0].length));
for (const [k, v, t] of rows) console.log(`${k.padEnd(width)}  ${v}${t ? `   [target ${t}]` : ''}`);
console.log(`VP8 trials (target → measured kbps, SSIM): ${vp8.trials.map((t) => `${t.targetKbps}→${f(t.kbps, 1)} ${t.ssim.toFixed(4)}`).join('; ')}`);
console.log(`VP8 settings: ${vp8.settings}`);
console.log(
  JSON.stringify({
    kbps: f(motion.kbpsAt30, 2),
    vp8_kbps_at_ssim95: f(vp8.kbps, 1),
    ratio: f(vp8.kbps / motion.kbpsAt30, 2),
    mean_px: f(motion.meanPx),
    p95_px: f(motion.p95Px),
    mouth_mean_px: f(motion.mouthMeanPx),
    eyes_mean_px: f(motion.eyesMeanPx),
  }),
);
