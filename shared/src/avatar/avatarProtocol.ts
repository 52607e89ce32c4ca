/**
 * Avatar rendering over signalling: the page lists the identities it may drive, starts avatar
 * rendering with one (the server answers with the avatar's producer, or a clear refusal), stops
 * it; the server pushes the session's state and stats. Also the typed `avatar_frame` event the
 * server emits per rendered frame (metrics, logs, tests).
 */
import { z } from 'zod';

export const identityIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'identity ids are 1-64 letters, digits, "_" or "-"');

// Strict: a field these methods do not know is a malformed request, not something to ignore.
export const listIdentitiesRequest = z.object({ method: z.literal('listIdentities'), data: z.strictObject({}).default({}) });
/** What drives the face: the page's camera motion uplink (default) or its microphone (server/src/audio/). */
export const avatarDriverSchema = z.enum(['camera', 'audio']);
export type AvatarDriver = z.infer<typeof avatarDriverSchema>;
/**
 * What drives the mouth of a camera-driven avatar: the camera's own motion (default) or the voice
 * (SuperFace's MTM: the mouth from the microphone, the rest of the face from the camera). A voice
 * driver's mouth is always the voice's.
 */
export const avatarMouthSchema = z.enum(['camera', 'voice']);
export type AvatarMouth = z.infer<typeof avatarMouthSchema>;
export const startAvatarRequest = z.object({
  method: z.literal('startAvatar'),
  data: z
    .strictObject({ identityId: identityIdSchema, driver: avatarDriverSchema.optional(), mouth: avatarMouthSchema.optional() })
    .refine((d) => !(d.driver === 'audio' && d.mouth === 'camera'), { message: "a voice-driven avatar's mouth comes from the voice", path: ['mouth'] }),
});
export const stopAvatarRequest = z.object({ method: z.literal('stopAvatar'), data: z.strictObject({}).default({}) });

export const identitySummarySchema = z.object({
  identityId: z.string(),
  displayName: z.string(),
  version: z.number().int(),
});
export type IdentitySummaryInfo = z.infer<typeof identitySummarySchema>;

export const avatarResultSchemas = {
  listIdentities: z.object({ identities: z.array(identitySummarySchema) }),
  startAvatar: z.object({ producerId: z.string().min(1), serverPeerId: z.string().min(1), identityId: z.string(), fps: z.number() }),
  stopAvatar: z.looseObject({}).transform((): Record<string, never> => ({})),
};
export type AvatarResults = {
  listIdentities: z.infer<(typeof avatarResultSchemas)['listIdentities']>;
  startAvatar: z.infer<(typeof avatarResultSchemas)['startAvatar']>;
  stopAvatar: Record<string, never>;
};

/**
 * What the session renders: `starting` (model loading), `calibrating` (page says "look at the
 * camera"), `live`, `hold` / `easing` (motion late or lost), `idle` (motion stopped: blinks and
 * slight head motion), `stopped`, `error` (with a message; the call goes on).
 */
export const avatarSessionStateSchema = z.enum(['starting', 'calibrating', 'live', 'hold', 'easing', 'idle', 'stopped', 'error']);
export type AvatarSessionState = z.infer<typeof avatarSessionStateSchema>;

export const avatarStateNotificationDataSchema = z.object({
  state: avatarSessionStateSchema,
  identityId: z.string(),
  /** 0..1 while calibrating. */
  calibration: z.number().min(0).max(1).optional(),
  producerId: z.string().optional(),
  message: z.string().optional(),
});
export type AvatarStateData = z.infer<typeof avatarStateNotificationDataSchema>;

/**
 * Lip sync for listeners: play `peerId`'s voice `audioDelayMs` later (an RTCRtpReceiver
 * jitterBufferTarget on their audio), so it meets their avatar video, which arrives later (motion
 * uplink, jitter buffer, render, encode). 0 when the avatar stops.
 */
export const avatarSyncSchema = z.object({ peerId: z.string(), audioDelayMs: z.number().min(0).max(4000) });
export type AvatarSync = z.infer<typeof avatarSyncSchema>;

/** Stats of one avatar session, pushed to its driver's page every second (and on /api). */
export const avatarStatsSchema = z.object({
  identityId: z.string(),
  state: avatarSessionStateSchema,
  fps: z.number(),
  framesRendered: z.number().int(),
  framesSent: z.number().int(),
  framesDropped: z.record(z.string(), z.number().int()),
  lateTicks: z.number().int(),
  /** Medians / 95th percentiles over the last ~2 s of frames (ms); null before any frame. */
  motionAgeMsP50: z.number().nullable(),
  inferenceMsP50: z.number().nullable(),
  encodeMsP50: z.number().nullable(),
  playedToSentMsP50: z.number().nullable(),
  playedToSentMsP95: z.number().nullable(),
  bitrateKbps: z.number(),
  /** The consumers' lowest available outgoing bitrate (mediasoup's send-side estimate, kbps) the bitrate follows; null until one is reported. */
  bandwidthEstimateKbps: z.number().nullable(),
  sentKbps: z.number(),
  keyframes: z.number().int(),
  keyframeRequests: z.number().int(),
  workerRestarts: z.number().int(),
  blinks: z.number().int(),
  /**
   * Voice-driven avatars only (`driver: 'audio'`): speech arrival at the server → the mouth it drove
   * published to the renderer (ms, p50/p95 over the last frames; null before speech), the model's
   * look-ahead and its inference time per 40 ms hop.
   */
  audioToLip: z
    .object({
      speechToMouthMsP50: z.number().nullable(),
      speechToMouthMsP95: z.number().nullable(),
      lookaheadMs: z.number(),
      inferenceMsP50: z.number().nullable(),
    })
    .optional(),
  /**
   * Lip sync applied for listeners (README "Voice and avatar in sync"): the voice delay sent to them
   * (`avatarSync.audioDelayMs`), made of the avatar's measured delay behind the voice at the server
   * (motion capture — for a voice-driven avatar the voice's own arrival — → frame RTP sent, median)
   * plus a fixed extra for what the server cannot see (ms; null before measured or with sync off).
   */
  avSync: z.object({ audioDelayMs: z.number().nullable(), measuredDelayMs: z.number().nullable(), extraMs: z.number() }).optional(),
});
export type AvatarStats = z.infer<typeof avatarStatsSchema>;

/** One rendered and sent frame (times in ms). */
export const avatarFrameEventSchema = z.object({
  type: z.literal('avatar_frame'),
  timestampMs: z.number(),
  roomId: z.string(),
  peerId: z.string(),
  state: avatarSessionStateSchema,
  /** Age of the rendered motion at the tick (since its capture, server clock); null in idle. */
  motionAgeMs: z.number().nullable(),
  /** From the tick to the start of inference (waiting for the worker). */
  queueMs: z.number(),
  inferenceMs: z.number(),
  encodeMs: z.number(),
  /** From the motion sample becoming available (jitter buffer playout) to its first RTP being sent; null in idle and for a sample already sent. */
  playedToSentMs: z.number().nullable(),
  /** From the output tick's deadline to the frame's RTP sent: ≤ one period means on time. */
  tickToSentMs: z.number(),
  keyframe: z.boolean(),
  bytes: z.number().int(),
  rtpTimestamp: z.number().int(),
  /** The motion's capture time on the sender's clock (epoch ms), when it came from a camera. */
  originCaptureTimeMs: z.number().nullable(),
});
export type AvatarFrameEvent = z.infer<typeof avatarFrameEventSchema>;

export const avatarDropEventSchema = z.object({
  type: z.literal('avatar_drop'),
  timestampMs: z.number(),
  roomId: z.string(),
  peerId: z.string(),
  reason: z.enum(['inference_busy', 'encoder_busy', 'worker_unavailable', 'inference_error', 'encoder_error']),
});
export type AvatarDropEvent = z.infer<typeof avatarDropEventSchema>;
export type AvatarEvent = AvatarFrameEvent | AvatarDropEvent;
