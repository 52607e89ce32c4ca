/**
 * MediaPipe's canonical face mesh (468 vertices, metric cm, x right, y up, z towards the camera)
 * and the Procrustes weights its geometry pipeline fits the pose with, read once from
 * canonicalFaceMesh.json (extracted from face_landmarker.task by
 * test/tools/generate-retarget-vectors.py; Apache-2.0, Google).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const MESH_POINTS = 468;

const canonicalMeshFileSchema = z.object({
  sourceSha256: z.string(),
  vertices: z.array(z.number()).length(MESH_POINTS * 3),
  procrustesIds: z.array(z.number().int().min(0).max(MESH_POINTS - 1)).min(3),
  procrustesWeights: z.array(z.number().min(0)),
});

export interface CanonicalFaceMesh {
  /** 468*3 float64, metric (cm). */
  vertices: Float64Array;
  /** Landmark ids with a non-zero Procrustes weight, and those weights (same length). */
  ids: Int32Array;
  weights: Float64Array;
}

let cached: CanonicalFaceMesh | undefined;

/** Parses the bundled mesh once (throws if the JSON is not the expected shape). */
export function loadCanonicalFaceMesh(): CanonicalFaceMesh {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(new URL('./canonicalFaceMesh.json', import.meta.url), 'utf8')) as unknown;
  const file = canonicalMeshFileSchema.parse(raw);
  if (file.procrustesWeights.length !== file.procrustesIds.length) {
    throw new Error('canonicalFaceMesh.json: procrustesIds and procrustesWeights differ in length');
  }
  const pairs = file.procrustesIds.map((id, i) => [id, file.procrustesWeights[i] as number] as const).filter(([, w]) => w > 0);
  cached = {
    vertices: Float64Array.from(file.vertices),
    ids: Int32Array.from(pairs.map(([id]) => id)),
    weights: Float64Array.from(pairs.map(([, w]) => w)),
  };
  return cached;
}
