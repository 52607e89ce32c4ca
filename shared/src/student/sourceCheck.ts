/**
 * The onboarding source check: `python -m avatar_ml.student.check_source --source <file>` decodes
 * a portrait or clip the way training will (EXIF orientation and video rotation honoured), finds
 * the faces and prints exactly one JSON line on stdout, parsed with `sourceCheckResultSchema`.
 * Exit 0 when the source is acceptable, 1 when refused (the line says why), 2 on a crash.
 * The upload endpoint runs it before accepting an identity; `train` runs the same check first.
 *
 *   {"ok":true,"kind":"portrait","width":600,"height":704,"durationS":null,"frames":1,"faceBox":{"x":180,"y":150,"width":240,"height":260},"rotation":0}
 *   {"ok":false,"code":"MULTIPLE_FACES","message":"Found 2 faces; the portrait must show exactly one person."}
 */
import { z } from 'zod';
import { trainingErrorCodeSchema } from './trainingProgress.js';

const box = z.object({ x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() });

export const sourceCheckResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    kind: z.enum(['portrait', 'clip']),
    /** Upright size after EXIF orientation / display-matrix rotation, in pixels. */
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    durationS: z.number().min(0).nullable(),
    frames: z.number().int().positive(),
    /** The one face, in upright pixels (on the first usable frame of a clip). */
    faceBox: box,
    /** Rotation that was applied to make it upright, degrees clockwise. */
    rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  }),
  z.object({ ok: z.literal(false), code: trainingErrorCodeSchema, message: z.string().min(1) }),
]);
export type SourceCheckResult = z.infer<typeof sourceCheckResultSchema>;
