/**
 * Server → client notifications, pushed on the socket.io event `notification`.
 * The client parses each one with `signallingNotificationSchema` before acting on it.
 */
import { z } from 'zod';
import { motionStatsSchema } from './motionStats';
import { avatarStateNotificationDataSchema, avatarStatsSchema, avatarSyncSchema } from '../avatar/avatarProtocol';
import { peerInfoSchema, producerInfoSchema } from './responses';

export const roomClosedReasonSchema = z.enum(['workerDied', 'serverShutdown', 'closedByServer']);
export type RoomClosedReason = z.infer<typeof roomClosedReasonSchema>;

export const signallingNotificationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('peerJoined'), data: z.object({ peer: peerInfoSchema }) }),
  z.object({ type: z.literal('peerLeft'), data: z.object({ peerId: z.string() }) }),
  z.object({ type: z.literal('newProducer'), data: producerInfoSchema }),
  z.object({ type: z.literal('producerClosed'), data: z.object({ producerId: z.string() }) }),
  z.object({ type: z.literal('consumerClosed'), data: z.object({ consumerId: z.string() }) }),
  z.object({ type: z.literal('consumerPaused'), data: z.object({ consumerId: z.string() }) }),
  z.object({ type: z.literal('consumerResumed'), data: z.object({ consumerId: z.string() }) }),
  z.object({
    type: z.literal('roomClosed'),
    data: z.object({ reason: roomClosedReasonSchema, message: z.string() }),
  }),
  /** Avatar mode: the server's stats of this peer's motion uplink (see motionStats.ts). */
  z.object({ type: z.literal('motionStats'), data: motionStatsSchema }),
  /** Avatar rendering (shared/src/avatar): the driver's session state and stats. */
  z.object({ type: z.literal('avatarState'), data: avatarStateNotificationDataSchema }),
  z.object({ type: z.literal('avatarStats'), data: avatarStatsSchema }),
  z.object({ type: z.literal('avatarSync'), data: avatarSyncSchema }),
]);

export type SignallingNotification = z.infer<typeof signallingNotificationSchema>;
export type NotificationType = SignallingNotification['type'];
