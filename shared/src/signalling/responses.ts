/**
 * Server → client answers to signalling requests (socket.io acknowledgements).
 *
 * Every request gets exactly one response: `{ ok: true, data }` with the method's result, or
 * `{ ok: false, error }` with a stable machine-readable code, a human-readable message and
 * whether retrying the same request can help.
 */
import { z } from 'zod';
import { mediaSourceSchema } from './requests';
import { syntheticTrackSchema } from './syntheticTrack';
import type { AvatarResults } from '../avatar/avatarProtocol';

export const signallingErrorCodes = [
  'BAD_REQUEST', // the payload failed schema validation or mediasoup rejected its parameters
  'PAYLOAD_TOO_LARGE',
  'NOT_JOINED', // the method needs a joined peer
  'ALREADY_JOINED',
  'NOT_FOUND', // unknown transport / producer / consumer id, or one owned by another peer
  'ROOM_FULL',
  'ROOM_CLOSED',
  'RATE_LIMITED',
  'FORBIDDEN', // not allowed for this peer (e.g. an identity it was not granted)
  'UNAVAILABLE', // the resource exists but cannot be used now (e.g. its model failed to load)
  'INTERNAL',
] as const;
export const signallingErrorCodeSchema = z.enum(signallingErrorCodes);
export type SignallingErrorCode = z.infer<typeof signallingErrorCodeSchema>;

export const signallingErrorSchema = z.object({
  code: signallingErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
});
export type SignallingErrorPayload = z.infer<typeof signallingErrorSchema>;

export const signallingResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: signallingErrorSchema }),
]);
export type SignallingResponse<T = unknown> =
  | { ok: true; data: T }
  | { ok: false; error: SignallingErrorPayload };

export const peerInfoSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  /** `server` peers are avatars and other tracks the server itself publishes. */
  kind: z.enum(['human', 'server']),
});
export type PeerInfo = z.infer<typeof peerInfoSchema>;

export const producerInfoSchema = z.object({
  producerId: z.string(),
  peerId: z.string(),
  kind: z.enum(['audio', 'video']),
  source: mediaSourceSchema,
  paused: z.boolean(),
  /**
   * Present on tracks the server synthesises (avatars): every client labels their tiles "AI
   * avatar"; the label comes from the server, so the driver cannot hide it.
   */
  synthetic: syntheticTrackSchema.optional(),
});
export type ProducerInfo = z.infer<typeof producerInfoSchema>;

/** Results, per method. mediasoup parameter objects are typed loosely here (`unknown`) and
 * handed to mediasoup-client, which validates them itself. */
export interface SignallingResults {
  getRouterRtpCapabilities: { rtpCapabilities: unknown };
  join: { peerId: string; peers: PeerInfo[]; producers: ProducerInfo[] };
  createWebRtcTransport: {
    transportId: string;
    iceParameters: unknown;
    iceCandidates: unknown[];
    dtlsParameters: unknown;
    sctpParameters?: unknown;
  };
  connectWebRtcTransport: Record<string, never>;
  produce: { producerId: string };
  produceData: { dataProducerId: string };
  consume: {
    consumerId: string;
    producerId: string;
    peerId: string;
    kind: 'audio' | 'video';
    rtpParameters: unknown;
    source: z.infer<typeof mediaSourceSchema>;
    producerPaused: boolean;
  };
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  closeProducer: Record<string, never>;
  pauseConsumer: Record<string, never>;
  resumeConsumer: Record<string, never>;
  closeDataProducer: Record<string, never>;
  leave: Record<string, never>;
  listIdentities: AvatarResults['listIdentities'];
  startAvatar: AvatarResults['startAvatar'];
  stopAvatar: AvatarResults['stopAvatar'];
}
