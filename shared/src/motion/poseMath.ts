/**
 * Rotation helpers. The decoder only uses quaternionToMatrix (+, *, sqrt: IEEE-exact, so browser
 * and Node give bit-identical results); the encoder's fit may use anything.
 */

/** Row-major 3x3 rotation of the unit quaternion (w, x, y, z), into `out` (length 9). */
export function quaternionToMatrix(w: number, x: number, y: number, z: number, out: Float64Array): Float64Array {
  out[0] = 1 - 2 * (y * y + z * z);
  out[1] = 2 * (x * y - w * z);
  out[2] = 2 * (x * z + w * y);
  out[3] = 2 * (x * y + w * z);
  out[4] = 1 - 2 * (x * x + z * z);
  out[5] = 2 * (y * z - w * x);
  out[6] = 2 * (x * z - w * y);
  out[7] = 2 * (y * z + w * x);
  out[8] = 1 - 2 * (x * x + y * y);
  return out;
}

/** Largest-eigenvalue eigenvector of a symmetric 4x4 matrix (row-major), by cyclic Jacobi. */
function topEigenvector4(n: Float64Array): [number, number, number, number] {
  const a = Float64Array.from(n);
  const v = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p * 4 + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p * 4 + q]!;
        if (Math.abs(apq) < 1e-300) continue;
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
  for (let i = 1; i < 4; i++) if (a[i * 4 + i]! > a[best * 4 + best]!) best = i;
  return [v[best]!, v[4 + best]!, v[8 + best]!, v[12 + best]!];
}

/**
 * Horn's closed-form absolute orientation: the unit quaternion (w ≥ 0) of the rotation R that
 * minimises Σ |R·model_j − target_j|² for centred point sets (xyz interleaved).
 */
export function fitRotation(model: ArrayLike<number>, target: ArrayLike<number>, count: number): [number, number, number, number] {
  let sxx = 0, sxy = 0, sxz = 0, syx = 0, syy = 0, syz = 0, szx = 0, szy = 0, szz = 0;
  for (let j = 0; j < count; j++) {
    const mx = model[j * 3]!, my = model[j * 3 + 1]!, mz = model[j * 3 + 2]!;
    const tx = target[j * 3]!, ty = target[j * 3 + 1]!, tz = target[j * 3 + 2]!;
    sxx += mx * tx; sxy += mx * ty; sxz += mx * tz;
    syx += my * tx; syy += my * ty; syz += my * tz;
    szx += mz * tx; szy += mz * ty; szz += mz * tz;
  }
  return rotationFromCrossCovariance([sxx, sxy, sxz, syx, syy, syz, szx, szy, szz]);
}

/**
 * Horn's quaternion of the rotation R maximising Σ (R·model_j) · target_j, from the 3x3
 * cross-covariance S[a][b] = Σ model_a · target_b (row-major, centred points, any weights):
 * unit (w, x, y, z) with w ≥ 0. Shared by the motion encoder, the live retargeting's Procrustes
 * and the audio path's similarity fit.
 */
export function rotationFromCrossCovariance(s: ArrayLike<number>): [number, number, number, number] {
  const sxx = s[0]!, sxy = s[1]!, sxz = s[2]!, syx = s[3]!, syy = s[4]!, syz = s[5]!, szx = s[6]!, szy = s[7]!, szz = s[8]!;
  const n = new Float64Array([
    sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
    syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
    szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
    sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz,
  ]);
  const [w, x, y, z] = topEigenvector4(n);
  const norm = Math.hypot(w, x, y, z) * (w < 0 ? -1 : 1);
  return [w / norm, x / norm, y / norm, z / norm];
}
