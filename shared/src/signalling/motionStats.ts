/**
 * The server's view of one peer's motion uplink (avatar mode), pushed to that peer's page as
 * the `motionStats` notification every `motion.statsIntervalMs` so the page can show what the
 * server actually receives. Units are in the field names.
 */
import { z } from 'zod';

const count = z.number().int().min(0);

export const motionStatsSchema = z.object({
  dataProducerId: z.string(),
  /** Every message on the motion channel, good or bad. */
  receivedPackets: count,
  receivedBytes: count,
  /** Frames that passed validation and entered the jitter buffer / were played out. */
  acceptedFrames: count,
  playedFrames: count,
  /** Frames missing from the sequence numbers (RFC 3550 expected − received). */
  lostFrames: count,
  /** Dropped packets by reason (rate_limited, truncated, bad_version, future, late, ...). */
  dropped: z.record(z.string().max(64), count),
  droppedTotal: count,
  /** RFC 3550 interarrival jitter of capture vs arrival times. */
  jitterMs: z.number().min(0),
  /** Age of the newest played frame, relative to the fastest packet's transit; null before any. */
  ageMs: z.number().nullable(),
  /** Uplink bit rate over the last ~2 s as the server receives it. */
  kbps: z.number().min(0),
  bufferedFrames: count,
  targetDelayMs: z.number().min(0),
});

export type MotionStatsPayload = z.infer<typeof motionStatsSchema>;
