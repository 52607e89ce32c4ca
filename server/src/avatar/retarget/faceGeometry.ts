/**
 * MediaPipe's face geometry in TypeScript: normalised screen landmarks ↔ metric face (pose-free
 * shape in the canonical frame, cm) + pose (the facial transformation matrix). A port of
 * models/avatar_ml/landmarks/geometry.py (itself MediaPipe's geometry_pipeline.cc and
 * procrustes_solver.cc: origin top-left, perspective camera, 63° vertical FOV, near 1 cm), for one
 * frame at a time, in float64. The weighted orthogonal Procrustes fit uses Horn's quaternion
 * method (the same optimum as the SVD with the reflection fix that Python uses).
 */
import { quaternionToMatrix, rotationFromCrossCovariance } from '@shared/motion/poseMath';
import { loadCanonicalFaceMesh, MESH_POINTS, type CanonicalFaceMesh } from './canonicalFaceMesh';

const VERTICAL_FOV_DEGREES = 63;
const NEAR = 1;

/** A similarity transform: `linear` = scale × rotation (row-major 3×3), then `translation`. */
export interface Similarity {
  linear: Float64Array;
  translation: Float64Array;
}

/** One face lifted to metric space (geometry.py's MetricFace for one frame). */
export interface MetricFace {
  /** P*3 float64 pose-free metric landmarks in the canonical face's frame (P = 468 or 478). */
  metric: Float64Array;
  /** Canonical frame → camera (cm). */
  pose: Similarity;
  /** Screen-to-metric scale of the unprojection. */
  totalScale: number;
  /** Mean projected screen z of the 468 mesh points. */
  depthOffset: number;
}

interface Frustum {
  left: number;
  bottom: number;
  xScale: number;
  yScale: number;
}

function frustum(width: number, height: number): Frustum {
  const heightAtNear = 2 * NEAR * Math.tan(0.5 * ((VERTICAL_FOV_DEGREES * Math.PI) / 180));
  const widthAtNear = (width * heightAtNear) / height;
  return { left: -0.5 * widthAtNear, bottom: -0.5 * heightAtNear, xScale: widthAtNear, yScale: heightAtNear };
}

/**
 * Weighted orthogonal Procrustes with uniform scale (MediaPipe's ProcrustesSolver): the
 * similarity mapping the canonical mesh's weighted points onto `points` (flat P*3, P ≥ 468).
 */
export function solveWeightedProcrustes(mesh: CanonicalFaceMesh, points: Float64Array): Similarity {
  const { vertices, ids, weights } = mesh;
  let total = 0;
  const com = [0, 0, 0];
  for (let k = 0; k < ids.length; k += 1) {
    const i = ids[k] as number;
    const w = weights[k] as number;
    total += w;
    for (let d = 0; d < 3; d += 1) com[d] = (com[d] as number) + w * (vertices[i * 3 + d] as number);
  }
  for (let d = 0; d < 3; d += 1) com[d] = (com[d] as number) / total;
  // S[a][b] = Σ w (source − com)_a target_b
  const s = new Float64Array(9);
  let denom = 0;
  for (let k = 0; k < ids.length; k += 1) {
    const i = ids[k] as number;
    const w = weights[k] as number;
    for (let a = 0; a < 3; a += 1) {
      const src = (vertices[i * 3 + a] as number) - (com[a] as number);
      denom += w * src * (vertices[i * 3 + a] as number);
      for (let b = 0; b < 3; b += 1) s[a * 3 + b] = (s[a * 3 + b] as number) + w * src * (points[i * 3 + b] as number);
    }
  }
  const rot = quaternionToMatrix(...rotationFromCrossCovariance(s), new Float64Array(9));
  // scale = Σ w (R (src − com)) · target / Σ w (src − com) · src
  let numer = 0;
  for (let a = 0; a < 3; a += 1) for (let b = 0; b < 3; b += 1) numer += (rot[b * 3 + a] as number) * (s[a * 3 + b] as number);
  const scale = numer / denom;
  const linear = rot.map((v) => v * scale);
  const translation = new Float64Array(3);
  for (let k = 0; k < ids.length; k += 1) {
    const i = ids[k] as number;
    const w = weights[k] as number;
    for (let d = 0; d < 3; d += 1) {
      let mapped = 0;
      for (let e = 0; e < 3; e += 1) mapped += (linear[d * 3 + e] as number) * (vertices[i * 3 + e] as number);
      translation[d] = (translation[d] as number) + w * ((points[i * 3 + d] as number) - mapped);
    }
  }
  for (let d = 0; d < 3; d += 1) translation[d] = (translation[d] as number) / total;
  return { linear, translation };
}

function columnNorm(m: Float64Array): number {
  return Math.hypot(m[0] as number, m[3] as number, m[6] as number);
}

/**
 * geometry.py `to_metric` for one frame: `landmarks` (P*3, P ≥ 468, normalised screen
 * coordinates of a `width`×`height` image) → MetricFace. Landmarks past 468 (irises) ride along.
 */
export function toMetric(landmarks: ArrayLike<number>, width: number, height: number, mesh = loadCanonicalFaceMesh()): MetricFace {
  const count = landmarks.length / 3;
  const { left, bottom, xScale, yScale } = frustum(width, height);
  const lm = new Float64Array(count * 3);
  let depthSum = 0;
  for (let p = 0; p < count; p += 1) {
    lm[p * 3] = (landmarks[p * 3] as number) * xScale + left;
    lm[p * 3 + 1] = (1 - (landmarks[p * 3 + 1] as number)) * yScale + bottom;
    lm[p * 3 + 2] = (landmarks[p * 3 + 2] as number) * xScale;
    if (p < MESH_POINTS) depthSum += lm[p * 3 + 2] as number;
  }
  const depthOffset = depthSum / MESH_POINTS;

  const inter = Float64Array.from(lm);
  for (let p = 0; p < count; p += 1) inter[p * 3 + 2] = -(inter[p * 3 + 2] as number);
  const s1 = columnNorm(solveWeightedProcrustes(mesh, inter).linear);

  const unproject = (scale: number, out: Float64Array): Float64Array => {
    for (let p = 0; p < count; p += 1) {
      const z = ((lm[p * 3 + 2] as number) - depthOffset + NEAR) / scale;
      out[p * 3] = ((lm[p * 3] as number) * z) / NEAR;
      out[p * 3 + 1] = ((lm[p * 3 + 1] as number) * z) / NEAR;
      out[p * 3 + 2] = -z;
    }
    return out;
  };
  const s2 = columnNorm(solveWeightedProcrustes(mesh, unproject(s1, inter)).linear);
  const metric = unproject(s1 * s2, new Float64Array(count * 3));
  const pose = solveWeightedProcrustes(mesh, metric);
  // inverse similarity: x = (sR)^-1 (y − t) = R^T (y − t) / s
  const s = columnNorm(pose.linear);
  const aligned = new Float64Array(count * 3);
  for (let p = 0; p < count; p += 1) {
    const y0 = (metric[p * 3] as number) - (pose.translation[0] as number);
    const y1 = (metric[p * 3 + 1] as number) - (pose.translation[1] as number);
    const y2 = (metric[p * 3 + 2] as number) - (pose.translation[2] as number);
    for (let d = 0; d < 3; d += 1) {
      aligned[p * 3 + d] =
        ((pose.linear[d] as number) * y0 + (pose.linear[3 + d] as number) * y1 + (pose.linear[6 + d] as number) * y2) / (s * s);
    }
  }
  return { metric: aligned, pose, totalScale: s1 * s2, depthOffset };
}

/**
 * geometry.py `to_screen` for one frame: pose-free metric landmarks → normalised screen
 * landmarks written into `out` (P*3 float32). x, y exact; z MediaPipe's relative depth.
 */
export function toScreen(
  metric: Float64Array,
  pose: Similarity,
  totalScale: number,
  depthOffset: number,
  width: number,
  height: number,
  out: Float32Array,
): Float32Array {
  const { left, bottom, xScale, yScale } = frustum(width, height);
  const m = pose.linear;
  const t = pose.translation;
  const count = metric.length / 3;
  for (let p = 0; p < count; p += 1) {
    const x = metric[p * 3] as number;
    const y = metric[p * 3 + 1] as number;
    const z = metric[p * 3 + 2] as number;
    const cx = (m[0] as number) * x + (m[1] as number) * y + (m[2] as number) * z + (t[0] as number);
    const cy = (m[3] as number) * x + (m[4] as number) * y + (m[5] as number) * z + (t[1] as number);
    const cz = (m[6] as number) * x + (m[7] as number) * y + (m[8] as number) * z + (t[2] as number);
    const zp = -cz;
    const xp = (cx * NEAR) / zp;
    const yp = (cy * NEAR) / zp;
    const zs = zp * totalScale + depthOffset - NEAR;
    out[p * 3] = (xp - left) / xScale;
    out[p * 3 + 1] = 1 - (yp - bottom) / yScale;
    out[p * 3 + 2] = zs / xScale;
  }
  return out;
}
