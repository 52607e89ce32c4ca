import { z } from 'zod';

/**
 * Output of test/tools/extract-browser-landmarks.ts ("browser-landmarks/v1").
 *
 * JSON (`.json`): the whole object below. Binary (`.bin`): ASCII magic "BLM1", uint32 LE length N
 * of a UTF-8 JSON header (this object with `frames[i].landmarks/matrix/blendshapes` omitted), the
 * header, then for every frame with `present: true`, in order, float32 LE: 478*3 landmarks, 16
 * matrix values, 52 blendshapes.
 *
 * Per frame: `landmarks` 478*3 (x, y normalised to the image [0,1], z as MediaPipe gives it, which
 * is roughly in x's scale), `matrix` the 4x4 facial transformation matrix column-major as MediaPipe
 * gives it, `blendshapes` 52 scores in `blendshapeNames` order; all null when no face was found.
 * `timestampMs` = index * 1000 / fps (the timestamp given to detectForVideo).
 */
export const BROWSER_LANDMARKS_FORMAT = 'browser-landmarks/v1';

const floats = (n: number) => z.array(z.number()).length(n);

export const browserLandmarkFrameSchema = z.object({
  index: z.number().int().nonnegative(),
  timestampMs: z.number(),
  present: z.boolean(),
  landmarks: floats(478 * 3).nullable(),
  matrix: floats(16).nullable(),
  blendshapes: floats(52).nullable(),
});

export const browserLandmarksSchema = z.object({
  format: z.literal(BROWSER_LANDMARKS_FORMAT),
  clip: z.string(),
  clipSha256: z.string().regex(/^[0-9a-f]{64}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  frameCount: z.number().int().nonnegative(),
  trackedCount: z.number().int().nonnegative(),
  meanDetectMs: z.number().nonnegative(),
  tracker: z.object({ package: z.string(), modelSha256: z.string(), delegate: z.literal('CPU') }),
  blendshapeNames: z.array(z.string()),
  createdAt: z.string(),
  frames: z.array(browserLandmarkFrameSchema),
});

export type BrowserLandmarkFrame = z.infer<typeof browserLandmarkFrameSchema>;
export type BrowserLandmarks = z.infer<typeof browserLandmarksSchema>;
