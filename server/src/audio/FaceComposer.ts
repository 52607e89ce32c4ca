/**
 * MTM composition (SuperFace's "mouth from one source, the rest from another") on an identity's
 * landmarks: the mouth region from the audio model, eyes and head from the listening motion.
 *
 * Works in the identity's reference image (`space: 'identity'` landmarks). At construction the
 * reference landmarks are fitted to the canonical face (similarity fit of the skull-fixed points,
 * as in models/avatar_ml/audio/mouth_space.py); that gives the model's `reference` input (the
 * mouth region in canonical cm) and the map from canonical displacements back to pixels.
 * `compose()` then applies, in order: mouth displacement, blink (upper lid onto the lower lid),
 * gaze (iris shift), head rotation about a pivot under the skull.
 */
import type { AudioToMouthManifest } from '@shared/audio';
import type { IdlePose } from './ListeningMotion';
import { apply, applyInverse, applyLinear, fitSimilarity, type Similarity } from './similarityFit';

export const LANDMARK_COUNT = 478;

// Eyelid pairs (upper, lower) along each eye contour, and the lid folds above them.
const LID_PAIRS: [number, number][] = [
  [246, 7], [161, 163], [160, 144], [159, 145], [158, 153], [157, 154], [173, 155],
  [466, 249], [388, 390], [387, 373], [386, 374], [385, 380], [384, 381], [398, 382],
];
const LID_FOLDS: [number, number][] = [
  [247, 159], [30, 159], [29, 159], [27, 159], [28, 159], [56, 159], [190, 159],
  [467, 386], [260, 386], [259, 386], [257, 386], [258, 386], [286, 386], [414, 386],
];
const IRIS = [468, 469, 470, 471, 472, 473, 474, 475, 476, 477];

export class FaceComposer {
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** The model's `reference` input: the mouth region in canonical cm, (R*3). */
  readonly referenceRegion: Float32Array;
  readonly #refPx: Float64Array;
  readonly #sim: Similarity;
  readonly #region: number[];
  readonly #rigid: number[];
  readonly #pivot: [number, number, number];
  readonly #eyeWidth: number;

  /**
   * @param reference the identity's 478*3 landmarks, normalised to its `imageWidth` x `imageHeight` image
   * @throws if the reference is not 478*3 finite numbers
   */
  constructor(reference: Float32Array, imageWidth: number, imageHeight: number,
    manifest: Pick<AudioToMouthManifest, 'mouth_region' | 'rigid_landmarks' | 'canonical_rigid'>) {
    if (reference.length !== LANDMARK_COUNT * 3 || !reference.every(Number.isFinite)) {
      throw new Error(`reference landmarks must be ${LANDMARK_COUNT * 3} finite floats`);
    }
    this.imageWidth = imageWidth;
    this.imageHeight = imageHeight;
    this.#region = manifest.mouth_region;
    this.#rigid = manifest.rigid_landmarks;
    const px = new Float64Array(reference.length);
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      px[3 * i] = reference[3 * i]! * imageWidth;
      px[3 * i + 1] = reference[3 * i + 1]! * imageHeight;
      px[3 * i + 2] = reference[3 * i + 2]! * imageWidth;
    }
    this.#refPx = px;
    const src: number[] = [];
    const dst: number[] = [];
    manifest.rigid_landmarks.forEach((idx, k) => {
      const c = manifest.canonical_rigid[k]!;
      src.push(c[0], -c[1], -c[2]); // canonical y up / z towards camera -> image y down / z away
      dst.push(px[3 * idx]!, px[3 * idx + 1]!, px[3 * idx + 2]!);
    });
    this.#sim = fitSimilarity(src, dst);
    this.referenceRegion = new Float32Array(this.#region.length * 3);
    this.#region.forEach((idx, k) => {
      const local = applyInverse(this.#sim, [px[3 * idx]!, px[3 * idx + 1]!, px[3 * idx + 2]!]);
      this.referenceRegion[3 * k] = local[0];
      this.referenceRegion[3 * k + 1] = -local[1];
      this.referenceRegion[3 * k + 2] = -local[2];
    });
    // pivot: below the centre of the rigid points, about where the neck turns the head
    const chin = 152;
    const top = 10;
    this.#pivot = [
      (px[3 * chin]! + px[3 * top]!) / 2,
      px[3 * chin + 1]! + 0.3 * (px[3 * chin + 1]! - px[3 * top + 1]!),
      (px[3 * chin + 2]! + px[3 * top + 2]!) / 2 + 0.5 * Math.abs(px[3 * chin + 1]! - px[3 * top + 1]!),
    ];
    this.#eyeWidth = (Math.hypot(px[3 * 133]! - px[3 * 33]!, px[3 * 133 + 1]! - px[3 * 33 + 1]!)
      + Math.hypot(px[3 * 263]! - px[3 * 362]!, px[3 * 263 + 1]! - px[3 * 362 + 1]!)) / 2;
  }

  /**
   * New 478*3 landmarks normalised to the identity image.
   * @param mouthDelta the model's displacement of the mouth region from the reference, canonical cm (R*3); undefined = reference mouth
   * @param pose eyes and head (ListeningMotion); undefined = as the reference
   */
  compose(mouthDelta: Float32Array | undefined, pose: IdlePose | undefined): Float32Array {
    const p = this.#referenceWithMouth(mouthDelta);
    if (pose) {
      const b = Math.max(0, Math.min(1, pose.blink));
      if (b > 0) {
        for (const [up, lo] of LID_PAIRS) {
          for (let c = 0; c < 3; c++) {
            const gap = this.#refPx[3 * lo + c]! - this.#refPx[3 * up + c]!;
            p[3 * up + c]! += 0.8 * b * gap;
            p[3 * lo + c]! -= 0.2 * b * gap;
          }
        }
        for (const [fold, lid] of LID_FOLDS) {
          const pair = LID_PAIRS.find(([u]) => u === lid) ?? LID_PAIRS.find(([u]) => u === 386)!;
          const gap = this.#refPx[3 * pair[1] + 1]! - this.#refPx[3 * pair[0] + 1]!;
          p[3 * fold + 1]! += 0.35 * b * gap;
        }
      }
      if (pose.gazeX !== 0 || pose.gazeY !== 0) {
        for (const i of IRIS) {
          p[3 * i]! += pose.gazeX * this.#eyeWidth;
          p[3 * i + 1]! += pose.gazeY * this.#eyeWidth;
        }
      }
      this.#rotate(p, pose.yaw, pose.pitch, pose.roll);
    }
    const out = new Float32Array(p.length);
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      out[3 * i] = p[3 * i]! / this.imageWidth;
      out[3 * i + 1] = p[3 * i + 1]! / this.imageHeight;
      out[3 * i + 2] = p[3 * i + 2]! / this.imageWidth;
    }
    return out;
  }

  /**
   * The mouth of `mouthDelta` on another face of this identity (`landmarks`, e.g. the camera's
   * retargeted motion): the reference mouth region displaced by the model, carried by the head pose
   * of `landmarks` (a similarity fit of the skull-fixed points, reference → landmarks), replaces
   * the region's points; every other point is kept. 478*3 normalised to the identity image in and
   * out; `mouthDelta` as in compose (undefined: the rest mouth).
   */
  mouthOnto(landmarks: Float32Array, mouthDelta: Float32Array | undefined): Float32Array {
    if (landmarks.length !== LANDMARK_COUNT * 3) throw new Error(`landmarks must be ${LANDMARK_COUNT * 3} floats`);
    const mouth = this.#referenceWithMouth(mouthDelta);
    const w = this.imageWidth;
    const h = this.imageHeight;
    const src: number[] = [];
    const dst: number[] = [];
    for (const i of this.#rigid) {
      src.push(this.#refPx[3 * i]!, this.#refPx[3 * i + 1]!, this.#refPx[3 * i + 2]!);
      dst.push(landmarks[3 * i]! * w, landmarks[3 * i + 1]! * h, landmarks[3 * i + 2]! * w);
    }
    const head = fitSimilarity(src, dst);
    const out = Float32Array.from(landmarks);
    for (const idx of this.#region) {
      const m = apply(head, [mouth[3 * idx]!, mouth[3 * idx + 1]!, mouth[3 * idx + 2]!]);
      out[3 * idx] = m[0] / w;
      out[3 * idx + 1] = m[1] / h;
      out[3 * idx + 2] = m[2] / w;
    }
    return out;
  }

  /** The reference landmarks in pixels with the mouth region displaced by `mouthDelta` (canonical cm, R*3; undefined = rest). */
  #referenceWithMouth(mouthDelta: Float32Array | undefined): Float64Array {
    const p = Float64Array.from(this.#refPx);
    if (!mouthDelta) return p;
    if (mouthDelta.length !== this.#region.length * 3) throw new Error('mouthDelta has the wrong length');
    this.#region.forEach((idx, k) => {
      const d = applyLinear(this.#sim, [mouthDelta[3 * k]!, -mouthDelta[3 * k + 1]!, -mouthDelta[3 * k + 2]!]);
      p[3 * idx]! += d[0];
      p[3 * idx + 1]! += d[1];
      p[3 * idx + 2]! += d[2];
    });
    return p;
  }

  /** Inner-lip gap over mouth width of normalised landmarks (the harness's mouth_opening). */
  static mouthOpening(landmarks: Float32Array, imageWidth: number, imageHeight: number): number {
    const pt = (i: number) => [landmarks[3 * i]! * imageWidth, landmarks[3 * i + 1]! * imageHeight] as const;
    const [ux, uy] = pt(13);
    const [lx, ly] = pt(14);
    const [ax, ay] = pt(308);
    const [bx, by] = pt(78);
    return Math.hypot(ux - lx, uy - ly) / Math.max(1e-9, Math.hypot(ax - bx, ay - by));
  }

  #rotate(p: Float64Array, yaw: number, pitch: number, roll: number): void {
    if (yaw === 0 && pitch === 0 && roll === 0) return;
    const [cy, sy, cp, sp, cr, sr] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch), Math.cos(roll), Math.sin(roll)];
    // R = Rz(roll) Ry(yaw) Rx(pitch), image axes (x right, y down, z away from the camera)
    const R = [
      cr * cy, cr * sy * sp - sr * cp, cr * sy * cp + sr * sp,
      sr * cy, sr * sy * sp + cr * cp, sr * sy * cp - cr * sp,
      -sy, cy * sp, cy * cp,
    ];
    const [ox, oy, oz] = this.#pivot;
    for (let i = 0; i < LANDMARK_COUNT; i++) {
      const x = p[3 * i]! - ox;
      const y = p[3 * i + 1]! - oy;
      const z = p[3 * i + 2]! - oz;
      p[3 * i] = ox + R[0]! * x + R[1]! * y + R[2]! * z;
      p[3 * i + 1] = oy + R[3]! * x + R[4]! * y + R[5]! * z;
      p[3 * i + 2] = oz + R[6]! * x + R[7]! * y + R[8]! * z;
    }
  }
}
