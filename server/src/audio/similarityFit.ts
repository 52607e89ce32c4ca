/**
 * 3-D similarity fit (Umeyama / Horn): scale s, rotation R, translation t minimising
 * sum |s R a_i + t - b_i|^2, rotation from Horn's quaternion method (the dominant eigenvector of
 * a symmetric 4x4 matrix, by Jacobi rotations). Same fit as mouth_space.fit_similarity in Python.
 */

export type Similarity = {
  scale: number;
  /** Row-major 3x3. */
  rotation: Float64Array;
  translation: [number, number, number];
};

/** Eigen-decomposition of a symmetric 4x4 (row-major) by cyclic Jacobi; returns the eigenvector of the largest eigenvalue. */
function dominantEigenvector4(m: number[]): number[] {
  const a = m.slice();
  const v = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p * 4 + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p * 4 + q]!;
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (a[q * 4 + q]! - a[p * 4 + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k * 4 + p]!;
          const akq = a[k * 4 + q]!;
          a[k * 4 + p] = c * akp - s * akq;
          a[k * 4 + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p * 4 + k]!;
          const aqk = a[q * 4 + k]!;
          a[p * 4 + k] = c * apk - s * aqk;
          a[q * 4 + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k * 4 + p]!;
          const vkq = v[k * 4 + q]!;
          v[k * 4 + p] = c * vkp - s * vkq;
          v[k * 4 + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i * 5]! > a[best * 5]!) best = i;
  return [v[best]!, v[4 + best]!, v[8 + best]!, v[12 + best]!];
}

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
  const [sxx, sxy, sxz, syx, syy, syz, szx, szy, szz] = S as [number, number, number, number, number, number, number, number, number];
  const N = [
    sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
    syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
    szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
    sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz,
  ];
  const [q0, q1, q2, q3] = dominantEigenvector4(N) as [number, number, number, number];
  const R = new Float64Array([
    q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2),
    2 * (q2 * q1 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1),
    2 * (q3 * q1 - q0 * q2), 2 * (q3 * q2 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3,
  ]);
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
