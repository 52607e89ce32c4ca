/**
 * The audio-to-mouth contract: what `python -m avatar_ml.audio.train` writes as
 * `models/audio/manifest.json` and what the server's audio motion (server/src/audio/) reads.
 *
 * - encoder ONNX (wav2vec2's interface): `input_values` float32 [1, N] 16 kHz, zero-mean unit
 *   variance -> `last_hidden_state` float32 [1, T, D], T = floor((N - window) / hop) + 1, 50 Hz;
 *   frame i is centred at (hop * i + window / 2) / sampleRate seconds.
 * - head ONNX: `features` [1, T, D] + `reference` [1, R*3] (the identity's mouth region in the
 *   canonical face frame, cm) -> `mouth_delta` [1, T, R*3], the region's displacement from the
 *   reference, canonical cm (x right, y up, z towards the camera).
 * The canonical frame is reached by a similarity fit of `rigidLandmarks` (pixels, y down) onto
 * `canonicalRigid` with y and z flipped (models/avatar_ml/audio/mouth_space.py).
 */
import { z } from 'zod';

const point3 = z.tuple([z.number(), z.number(), z.number()]);
const landmarkIndex = z.number().int().min(0).max(477);

/**
 * Optional envelope drive of a model (models/avatar_ml/audio/envelope.py, server MouthEnvelope.ts):
 * the head's inner-lip opening is mixed with one driven by the voice's loudness envelope.
 * `open_direction` (R*3, canonical cm per cm of inner-lip gap) and `full_gap_cm` come from the
 * model's training clips; `weight` 0 = the head alone, 1 = the envelope alone.
 */
export const envelopeDriveSchema = z.object({
  weight: z.number().min(0).max(1),
  full_gap_cm: z.number().nonnegative(),
  open_direction: z.array(z.number()),
  lead_frames: z.number().int().nonnegative(),
  lo_db: z.number(),
  hi_db: z.number(),
  attack_ms: z.number().positive(),
  release_ms: z.number().positive(),
  level_tau_s: z.number().positive(),
}).refine((e) => e.hi_db > e.lo_db, { message: 'hi_db must exceed lo_db' });
export type EnvelopeDrive = z.infer<typeof envelopeDriveSchema>;

export const audioModelEntrySchema = z.object({
  name: z.string().min(1),
  encoder: z.string().min(1),
  head: z.string().min(1),
  held_out: z.string().nullable(),
  held_out_sha256: z.string().nullable(),
  trained_on_real: z.array(z.string()),
  synthetic_utterances: z.number().int().nonnegative(),
  envelope_drive: envelopeDriveSchema.optional(),
}).passthrough();
export type AudioModelEntry = z.infer<typeof audioModelEntrySchema>;

export const audioToMouthManifestSchema = z.object({
  format: z.literal('avatar.audio_to_mouth'),
  version: z.literal(1),
  sample_rate: z.literal(16000),
  frame_rate: z.literal(50),
  window_samples: z.number().int().positive(),
  hop_samples: z.number().int().positive(),
  lookahead_ms: z.number().nonnegative().max(120),
  mouth_region: z.array(landmarkIndex).min(1),
  rigid_landmarks: z.array(landmarkIndex).min(3),
  canonical_rigid: z.array(point3),
  canonical_region: z.array(point3),
  models: z.array(audioModelEntrySchema).min(1),
}).passthrough().superRefine((m, ctx) => {
  if (m.canonical_rigid.length !== m.rigid_landmarks.length) {
    ctx.addIssue({ code: 'custom', path: ['canonical_rigid'], message: 'one point per rigid landmark' });
  }
  if (m.canonical_region.length !== m.mouth_region.length) {
    ctx.addIssue({ code: 'custom', path: ['canonical_region'], message: 'one point per mouth-region landmark' });
  }
  m.models.forEach((entry, k) => {
    const drive = entry.envelope_drive;
    if (drive && drive.open_direction.length !== m.mouth_region.length * 3) {
      ctx.addIssue({ code: 'custom', path: ['models', k, 'envelope_drive', 'open_direction'], message: 'one 3-vector per mouth-region landmark' });
    }
    if (drive && (m.mouth_region.indexOf(13) < 0 || m.mouth_region.indexOf(14) < 0)) {
      ctx.addIssue({ code: 'custom', path: ['models', k, 'envelope_drive'], message: 'the mouth region must hold the inner-lip points 13 and 14' });
    }
  });
});
export type AudioToMouthManifest = z.infer<typeof audioToMouthManifestSchema>;
