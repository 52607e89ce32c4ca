/** Tunables of a MotionStream (the server config's `motion` section feeds these). */
import { z } from 'zod';

export const motionStreamConfigSchema = z.object({
  /** Playout delay after the (anchored) capture time: absorbs jitter and reordering. */
  targetDelayMs: z.number().min(0).max(2000).default(60),
  /** Sustained packets per second per peer; the tracker sends ≤ 30. */
  maxPacketsPerSecond: z.number().positive().max(100_000).default(60),
  /** Token bucket depth: a short burst after a stall is allowed. */
  burstPackets: z.number().int().min(1).max(100_000).default(30),
  /** A capture time this much earlier than the fastest transit allows is "from the future". */
  maxFutureMs: z.number().min(0).max(60_000).default(250),
  /** A packet whose transit exceeds the fastest one by this much is stale. */
  maxAgeMs: z.number().min(1).max(60_000).default(1000),
  /** Consecutive clock-refused packets, agreeing with each other, after which the clock re-anchors. */
  clockResyncAfterPackets: z.number().int().min(1).max(10_000).default(5),
  /** The same for stale packets: longer, so a backlog flushed after a stall does not move it. */
  clockStaleResyncAfterPackets: z.number().int().min(1).max(10_000).default(30),
  /** Packets after (re)anchoring during which a slow first packet's anchor may be corrected... */
  clockWarmupPackets: z.number().int().min(0).max(10_000).default(15),
  /** ...by up to this much (the tracker's first frame includes its warm-up). */
  clockWarmupSlackMs: z.number().min(0).max(60_000).default(2000),
  /** Most frames held by the jitter buffer. */
  bufferCapacity: z.number().int().min(1).max(10_000).default(64),
  /** Landmark x/y must lie in [-margin, 1 + margin] (MediaPipe extrapolates a little off-image). */
  landmarkMargin: z.number().min(0).max(10).default(1),
  /** How often each peer's page is sent its motion stats. */
  statsIntervalMs: z.number().int().min(100).max(60_000).default(1000),
});

export type MotionStreamConfig = z.infer<typeof motionStreamConfigSchema>;

export const defaultMotionStreamConfig: MotionStreamConfig = motionStreamConfigSchema.parse({});
