/**
 * The training CLI's progress protocol: `python -m avatar_ml.student.train` prints exactly one
 * JSON object per line on stdout (anything else goes to stderr). The onboarding service's job
 * runner parses every line with `trainingEventSchema`; a line that does not parse is a protocol
 * error, logged with the job and never guessed at.
 *
 *   {"event":"progress","stage":"train","step":120,"total":2000,"overall":0.41,"loss":0.083,"eta_s":312.5}
 *   {"event":"progress","stage":"train","step":200,"total":2000,"overall":0.44,"loss":0.071,"eta_s":290.1,"preview":"/out/previews/step_000200.png"}
 *   {"event":"error","code":"NO_FACE","message":"No face was found in portrait.jpg."}
 *   {"event":"done","out":"/out","manifest":"/out/manifest.json","publishable":true}
 *
 * Exit status: 0 after `done`; non-zero after `error` (and on any crash, which the runner reports
 * with the last stderr lines). Nothing half-written is left as if it were a result: `manifest.json`
 * appears last, atomically.
 */
import { z } from 'zod';

/** Stages in order; `overall` grows monotonically across them. */
export const TRAINING_STAGES = ['prepare', 'landmarks', 'teacher', 'train', 'export', 'evaluate'] as const;
export const trainingStageSchema = z.enum(TRAINING_STAGES);
export type TrainingStage = z.infer<typeof trainingStageSchema>;

/** Refusals the CLI can give; the onboarding service shows `message` to the user as is. */
export const TRAINING_ERROR_CODES = [
  'UNREADABLE_INPUT', // not an image or video we can decode
  'UNSUPPORTED_INPUT', // decodable but not acceptable (codec, too long, degenerate size)
  'NO_FACE',
  'MULTIPLE_FACES',
  'FACE_TOO_SMALL',
  'RESUME_MISMATCH', // --resume on a checkpoint made from another source or recipe
  'INTERNAL',
] as const;
export const trainingErrorCodeSchema = z.enum(TRAINING_ERROR_CODES);
export type TrainingErrorCode = z.infer<typeof trainingErrorCodeSchema>;

const progressEventSchema = z.object({
  event: z.literal('progress'),
  stage: trainingStageSchema,
  /** Step within the stage, 0..total. */
  step: z.number().int().min(0),
  total: z.number().int().min(0),
  /** Whole job, 0..1. */
  overall: z.number().min(0).max(1),
  /** Training loss at this step (null outside training). */
  loss: z.number().nullable(),
  /** Seconds left for the whole job, estimated (null while unknown). */
  eta_s: z.number().min(0).nullable(),
  /** Absolute path of a preview PNG written at this step (real | student), now and then. */
  preview: z.string().optional(),
});

const errorEventSchema = z.object({
  event: z.literal('error'),
  code: trainingErrorCodeSchema,
  message: z.string().min(1),
});

const doneEventSchema = z.object({
  event: z.literal('done'),
  out: z.string().min(1),
  manifest: z.string().min(1),
  /** False when the student missed a gate: it exists but may only be published by an audited override. */
  publishable: z.boolean(),
});

export const trainingEventSchema = z.discriminatedUnion('event', [
  progressEventSchema,
  errorEventSchema,
  doneEventSchema,
]);
export type TrainingEvent = z.infer<typeof trainingEventSchema>;
export type TrainingProgressEvent = z.infer<typeof progressEventSchema>;
