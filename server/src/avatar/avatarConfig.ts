/**
 * Config of the live avatar runtime (`config.avatar`): output rate, calibration, hold/ease and
 * idle timings, inference (execution provider, threads), encoder (bitrate), identities.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export const executionProviderSchema = z.enum(['cpu', 'cuda']);
export type ExecutionProvider = z.infer<typeof executionProviderSchema>;

export const studentPrecisionSchema = z.enum(['int8', 'float32']);
export type StudentPrecision = z.infer<typeof studentPrecisionSchema>;

/** An identity the config offers: its id, a name for the picker, and the student's directory. */
export const configuredIdentitySchema = z.object({
  identityId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  displayName: z.string().min(1).max(64),
  /** Directory with manifest.json and the ONNX file it names (relative to the repository root). */
  studentDir: z.string().min(1).transform((p) => resolve(repoRoot, p)),
});

export const avatarConfigSchema = z.object({
  /** Output frame rate of every avatar track. */
  fps: z.number().int().min(1).max(60).default(25),
  /** Driver neutral calibration: how long, and how many tracked frames at least. */
  calibrationMs: z.number().int().min(0).default(1000),
  calibrationMinFrames: z.number().int().min(1).default(8),
  /** Motion older than this at a tick is "late": the session holds the last pose. */
  holdAfterMs: z.number().int().min(0).default(120),
  /** After holding this long, ease back to neutral over `easeMs`. */
  easeAfterMs: z.number().int().min(0).default(400),
  easeMs: z.number().int().min(1).default(600),
  /** With no motion for this long the source counts as stopped: idle motion (blinks, slight head movement). */
  idleAfterMs: z.number().int().min(0).default(1000),
  /** Blinks per minute in idle motion (uniform in the range, re-drawn per blink interval). */
  blinksPerMinute: z.tuple([z.number().positive(), z.number().positive()]).default([12, 20]),
  blinkDurationMs: z.tuple([z.number().positive(), z.number().positive()]).default([120, 300]),
  /**
   * Lip sync: listeners delay the driver's voice by the avatar's measured capture-to-RTP delay
   * plus this (ms; the part the server cannot see: face tracking in the driver's page, the capture
   * clock's anchoring, the viewer's video decode and render — set from the e2e measurement).
   */
  avSyncExtraMs: z.number().min(-500).max(1000).default(100),
  /**
   * The same extra for voice-driven avatars (`driver: 'audio'`): their motion's capture time is the
   * voice's own arrival at the server, so nothing happens before it in the driver's page; what is
   * left is the viewer's video decode and render against its audio output (ms; set from the audio
   * e2e's onset measurement, README "Audio-driven motion").
   */
  avSyncAudioExtraMs: z.number().min(-500).max(1000).default(0),
  /**
   * Most avatar sessions this server renders at once (every room together); one more is refused
   * with UNAVAILABLE. Rendering is CPU-bound: `npm run bench:avatars` sustains 3–4 at 25 fps on a
   * 2-core machine with the demo student's int8 variant (4 when a core renders it in ~12 ms, 3 at
   * ~17 ms; 2 with the float one), and a fifth makes every avatar late. Raise it with cores or a GPU.
   */
  maxSessions: z.number().int().min(1).max(1000).default(4),
  /** Turn listener-side lip sync off (voices play at once, ahead of the avatar). */
  avSync: z.boolean().default(true),
  inference: z
    .object({
      executionProvider: executionProviderSchema.default('cpu'),
      /**
       * Which of a student's files the CPU renders: 'int8' uses the manifest's int8 variant where it
       * has one (decoder convolutions quantised; ~25 % faster here, frames within the manifest's
       * stated parity), else the float file; 'float32' always the float file. CUDA always renders float.
       */
      precision: studentPrecisionSchema.default('int8'),
      /** onnxruntime intra-op threads per InferenceSession (each in its own render worker thread). */
      intraOpThreads: z.number().int().min(1).max(64).default(1),
      interOpThreads: z.number().int().min(1).max(64).default(1),
      /**
       * Most render workers (each one InferenceSession, one inference at a time) per identity
       * model: one, plus one per further session sharing the model, up to this. onnxruntime-node
       * runs an inference synchronously on its thread, so this × intraOpThreads is the most cores
       * one identity's avatars can use. Default 2: this machine's core count.
       */
      workersPerModel: z.number().int().min(1).max(16).default(2),
      /** A render worker that crashes is restarted after this delay. */
      restartDelayMs: z.number().int().min(0).default(200),
    })
    .prefault({}),
  encoder: z
    .object({
      /** Start bitrate; follows the consumers' available outgoing bitrate within [min, max]. */
      bitrateKbps: z.number().int().min(50).max(20_000).default(600),
      minBitrateKbps: z.number().int().min(30).default(150),
      maxBitrateKbps: z.number().int().min(50).default(1500),
      /** A keyframe at least this often even without PLI (seconds). */
      keyframeIntervalS: z.number().min(0.5).max(60).default(10),
      /** libvpx -cpu-used (realtime: 4..16, higher = faster). */
      cpuUsed: z.number().int().min(0).max(16).default(8),
      ffmpegPath: z.string().min(1).default('ffmpeg'),
    })
    // An inverted range would pin the bitrate at minBitrateKbps whatever the estimate says.
    .refine((e) => e.minBitrateKbps <= e.maxBitrateKbps, { message: 'must not exceed maxBitrateKbps', path: ['minBitrateKbps'] })
    .prefault({}),
  /** Identities offered by config (until the registry serves them) and which rooms may use them. */
  identities: z.array(configuredIdentitySchema).default([
    { identityId: 'demo', displayName: 'Demo identity', studentDir: 'models/identities/demo' },
  ]),
  /** roomId (or '*' for every room) → identity ids its peers may drive. */
  roomGrants: z.record(z.string(), z.array(z.string())).default({ demo: ['demo'] }),
})
  // The late-motion stages run in this order (FaceMotionController): hold, then ease, then idle.
  .refine((c) => c.holdAfterMs <= c.easeAfterMs, { message: 'must not exceed easeAfterMs', path: ['holdAfterMs'] })
  .refine((c) => c.holdAfterMs <= c.idleAfterMs, { message: 'must not exceed idleAfterMs', path: ['holdAfterMs'] });

export type AvatarConfig = z.infer<typeof avatarConfigSchema>;
