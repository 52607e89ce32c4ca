/**
 * 3-D similarity fit (Umeyama / Horn): scale s, rotation R, translation t minimising
 * sum |s R a_i + t - b_i|^2, rotation from Horn's quaternion method (the dominant eigenvector of
 * a symmetric 4x4 matrix, by Jacobi rotations). Same fit as mouth_space.fit_similarity in Python.
 */

import { quaternionToMatrix, rotationFromCrossCovariance } from '@shared/motion/poseMath';

export type Similarity = {
  scale: number;
  /** Row-major 3x3. */
  rotation: Float64Array;
  translation: [number, number, number];
};

/** Fit `dst ≈ s R src + t` for paired points (n x 3, flat arrays). */
export function fitSimilarity(src: ArrayLike<number>, dst: ArrayLike<number>): Similarity {
  const n = src.length / 3;
  if (n < 3 || dst.length !== src.length) throw new Error('fitSimilarity needs >= 3 paired 3-D points');
  const ms = [0, 0, 0];
  const md = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      ms[k]! += src[3 * i + k]! / n;
      md[k]! += dst[3 * i + k]! / n;
    }
  }
  // cross-covariance S[a][b] = sum (src_a)(dst_b), and source variance
  const S = new Array<number>(9).fill(0);
  let varS = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const sa = src[3 * i + a]! - ms[a]!;
      varS += sa * sa;
      for (let b = 0; b < 3; b++) S[a * 3 + b]! += sa * (dst[3 * i + b]! - md[b]!);
    }
  }
  const R = quaternionToMatrix(...rotationFromCrossCovariance(S), new Float64Array(9));
  // scale = sum (R s_i) . d_i / sum |s_i|^2
  let num = 0;
  for (let i = 0; i < n; i++) {
    const s0 = src[3 * i]! - ms[0]!;
    const s1 = src[3 * i + 1]! - ms[1]!;
    const s2 = src[3 * i + 2]! - ms[2]!;
    for (let r = 0; r < 3; r++) {
      const rs = R[r * 3]! * s0 + R[r * 3 + 1]! * s1 + R[r * 3 + 2]! * s2;
      num += rs * (dst[3 * i + r]! - md[r]!);
    }
  }
  const scale = num / varS;
  const t: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    t[r] = md[r]! - scale * (R[r * 3]! * ms[0]! + R[r * 3 + 1]! * ms[1]! + R[r * 3 + 2]! * ms[2]!);
  }
  return { scale, rotation: R, translation: t };
}

/** s R p + t: source point -> fitted (pixel) frame. */
export function apply(sim: Similarity, p: [number, number, number]): [number, number, number] {
  const v = applyLinear(sim, p);
  return [v[0] + sim.translation[0], v[1] + sim.translation[1], v[2] + sim.translation[2]];
}

/** s R v (no translation): maps a displacement. */
export function applyLinear(sim: Similarity, v: [number, number, number]): [number, number, number] {
  const R = sim.rotation;
  return [0, 1, 2].map((r) => sim.scale * (R[r * 3]! * v[0] + R[r * 3 + 1]! * v[1] + R[r * 3 + 2]! * v[2])) as [number, number, number];
}

/** (p - t) R / s: pixel point -> fitted source frame. */
export function applyInverse(sim: Similarity, p: [number, number, number]): [number, number, number] {
  const R = sim.rotation;
  const d = [p[0] - sim.translation[0], p[1] - sim.translation[1], p[2] - sim.translation[2]];
  return [0, 1, 2].map((c) => (R[c]! * d[0]! + R[3 + c]! * d[1]! + R[6 + c]! * d[2]!) / sim.scale) as [number, number, number];
}
