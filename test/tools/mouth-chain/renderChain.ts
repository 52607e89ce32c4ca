// CLI: npx tsx test/tools/mouth-chain/renderChain.ts [--clip d10] [--identity models/identities/demo]
//      [--start 0] [--frames 300] [--out .data/mouth-chain/run] [--direct] [--int8] [--every 1]
// First half of the offline mouth-opening decomposition (the second half, mouthChain.py, landmarks
// the frames): a motion-library track drives the server's own FaceMotionController (calibration,
// retargeting, live state) at 25 fps, exactly as an AvatarSession ticks, and the identity's
// student (onnxruntime-node, CPU) renders every tick. The track loops over its first 12 s (as the
// e2e's fake camera loops its clip) and the session starts `--start` ticks into it, so the
// calibration second falls where it would for a driver who turned avatar mode on then.
// Writes <out>/frames.rgb (frames × 256×256×3 uint8) and <out>/chain.json: per tick the driver's
// mouth opening (inner lip gap / face height, in driver pixels) and the retargeted landmarks'
// (absolute, and signed: + when lip 14 is below lip 13, − when the lips cross).
// --direct: the track's landmarks go to the student as identity-space motion (no calibration, no
// retargeting): the ceiling for a clip that is the identity's own source (d10 for the demo identity).
// --int8: render with the manifest's int8 variant (what the server serves on CPU by default).
// --every N: a new driver sample every N ticks only (a driver page tracking at 25/N fps, as a
// starved browser does; the ticks between render the same sample, as 'live' while it is fresh).
import { mkdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { studentManifestSchema } from '@shared/student';
import { FaceMotionController } from '../../../server/src/avatar/FaceMotionController';
import type { MotionSource, MotionSourceSample } from '../../../server/src/avatar/MotionSource';
import { Retargeter } from '../../../server/src/avatar/retarget/retarget';
import { loadConfig } from '../../../server/src/config';
import { TypedEmitter } from '../../../server/src/util/TypedEmitter';
import { loadMotionLibraryTrack } from '../../support/motionLibraryTrack';

const { values } = parseArgs({
  options: {
    clip: { type: 'string', default: 'd10' },
    identity: { type: 'string', default: 'models/identities/demo' },
    start: { type: 'string', default: '0' },
    frames: { type: 'string', default: '300' },
    out: { type: 'string', default: '.data/mouth-chain/run' },
    direct: { type: 'boolean', default: false },
    int8: { type: 'boolean', default: false },
    every: { type: 'string', default: '1' },
  },
});
const FPS = 25;
const LOOP_SECONDS = 12;

/** Signed inner-lip gap over face height: negative when the lower lip (14) is above the upper (13). */
export function signedMouth(l: ArrayLike<number>, width: number, height: number): number {
  const dx = ((l[14 * 3] as number) - (l[13 * 3] as number)) * width;
  const dy = ((l[14 * 3 + 1] as number) - (l[13 * 3 + 1] as number)) * height;
  const face = Math.hypot(((l[10 * 3] as number) - (l[152 * 3] as number)) * width, ((l[10 * 3 + 1] as number) - (l[152 * 3 + 1] as number)) * height);
  return (Math.sign(dy) || 1) * Math.hypot(dx, dy) / face;
}

/** A MotionSource whose newest sample the script sets before each tick. */
class SteppedSource extends TypedEmitter<{ sample: [MotionSourceSample]; close: [] }> implements MotionSource {
  readonly kind = 'replay';
  readonly closed = false;
  sample: MotionSourceSample | undefined;
  latest(): MotionSourceSample | undefined {
    return this.sample;
  }
  close(): void {}
}

const track = loadMotionLibraryTrack(values.clip as string);
const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(values.identity as string, 'manifest.json'), 'utf8')));
const config = loadConfig({}).avatar;
const source = new SteppedSource();
const retargeter = new Retargeter({
  landmarks: manifest.identity.neutralLandmarks,
  width: manifest.identity.imageSize.width,
  height: manifest.identity.imageSize.height,
});
const controller = new FaceMotionController({
  source,
  retargeter,
  timing: {
    calibrationMs: config.calibrationMs,
    calibrationMinFrames: config.calibrationMinFrames,
    holdAfterMs: config.holdAfterMs,
    easeAfterMs: config.easeAfterMs,
    easeMs: config.easeMs,
    idleAfterMs: config.idleAfterMs,
    blinksPerMinute: config.blinksPerMinute,
    blinkDurationMs: config.blinkDurationMs,
  },
  seed: 1,
});
const modelFile = values.int8 ? manifest.model.int8?.file : manifest.model.file;
if (!modelFile) throw new Error(`${values.identity}: the manifest has no int8 variant`);
const session = await ort.InferenceSession.create(join(values.identity as string, modelFile), { intraOpNumThreads: 1, interOpNumThreads: 1 });
const out = values.out as string;
mkdirSync(out, { recursive: true });
const fd = openSync(join(out, 'frames.rgb'), 'w');
const loopFrames = Math.min(track.frames.length, Math.round(LOOP_SECONDS * track.fps));
const start = Number(values.start);
const count = Number(values.frames);
const every = Number(values.every);
const ticks: { tick: number; trackFrame: number; state: string; driver: number; retargeted: number; retargetedSigned: number }[] = [];
for (let i = 0; i < count; i += 1) {
  const tMs = i * (1000 / FPS);
  const sampled = i - (i % every);
  const trackFrame = Math.round(((start + sampled) / FPS) * track.fps) % loopFrames;
  const landmarks = track.frames[trackFrame] as Float32Array;
  const sampleMs = sampled * (1000 / FPS);
  if (i === sampled) source.sample = { landmarks, imageWidth: track.width, imageHeight: track.height, captureTimeMs: sampleMs, availableAtMs: sampleMs, seq: i, space: values.direct ? 'identity' : 'driver' };
  const { landmarks: face, frame } = controller.tick(tMs + 1);
  const input = new ort.Tensor('float32', Float32Array.from(face), [1, 478, 3]);
  const result = await session.run({ [manifest.model.inputs[0]!.name]: input });
  const rgb = result[manifest.model.outputs[0]!.name]!.data as Uint8Array;
  writeSync(fd, rgb);
  const { width, height } = manifest.identity.imageSize;
  ticks.push({
    tick: i,
    trackFrame,
    state: frame.state,
    driver: Math.abs(signedMouth(landmarks, track.width, track.height)),
    retargeted: Math.abs(signedMouth(face, width, height)),
    retargetedSigned: signedMouth(face, width, height),
  });
}
closeSync(fd);
await session.release();
writeFileSync(join(out, 'chain.json'), JSON.stringify({ clip: values.clip, identity: values.identity, model: modelFile, start, fps: FPS, size: 256, ticks }));
console.log(JSON.stringify({ out, frames: ticks.length, live: ticks.filter((t) => t.state === 'live').length }));
