/**
 * Client → server signalling requests.
 *
 * Every request travels as one socket.io event, `request`, with an acknowledgement callback:
 *   socket.emit('request', { method: 'join', data: {...} }, (response) => ...)
 * The server parses the payload with `requestSchema` before anything else looks at it, and
 * answers every request, good or bad, with a `SignallingResponse` (see responses.ts).
 */
import { z } from 'zod';
import {
  appDataSchema,
  dtlsParametersSchema,
  idSchema,
  rtpCapabilitiesSchema,
  rtpParametersSchema,
  sctpCapabilitiesSchema,
  sctpStreamParametersSchema,
} from './mediasoupSchemas';
import { clientText } from './clientText';
import { listIdentitiesRequest, startAvatarRequest, stopAvatarRequest } from '../avatar/avatarProtocol';

/** Room ids appear in URLs: keep them to URL-safe characters. */
export const roomIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'room id may contain only letters, digits, "_" and "-"');

/**
 * What other participants see: taken as sent (never trimmed or cut), so it must already be
 * trimmed; control characters are refused (clientText.ts). A form trims what the user typed.
 */
export const displayNameSchema = clientText({ max: 64 })
  .refine((name) => name.length > 0, 'display name must not be empty')
  .refine((name) => name.trim() === name, 'display name must not start or end with white space');

/** What a media track is: lets clients lay out tiles and the server find avatar inputs. */
export const mediaSourceSchema = z.enum(['mic', 'camera', 'avatar']);
export type MediaSource = z.infer<typeof mediaSourceSchema>;

/** What a data channel carries. `motion` is the avatar-mode landmark uplink. */
export const dataSourceSchema = z.enum(['motion', 'chat', 'probe']);
export type DataSource = z.infer<typeof dataSourceSchema>;

const request = <M extends string, D extends z.ZodType>(method: M, data: D) =>
  z.object({ method: z.literal(method), data });

export const getRouterRtpCapabilitiesRequest = request(
  'getRouterRtpCapabilities',
  z.object({ roomId: roomIdSchema }),
);
export const joinRequest = request(
  'join',
  z.object({
    roomId: roomIdSchema,
    displayName: displayNameSchema,
    rtpCapabilities: rtpCapabilitiesSchema,
    sctpCapabilities: sctpCapabilitiesSchema.optional(),
  }),
);
export const createWebRtcTransportRequest = request(
  'createWebRtcTransport',
  z.object({
    direction: z.enum(['send', 'recv']),
    sctpCapabilities: sctpCapabilitiesSchema.optional(),
  }),
);
export const connectWebRtcTransportRequest = request(
  'connectWebRtcTransport',
  z.object({ transportId: idSchema, dtlsParameters: dtlsParametersSchema }),
);
export const produceRequest = request(
  'produce',
  z.object({
    transportId: idSchema,
    kind: z.enum(['audio', 'video']),
    rtpParameters: rtpParametersSchema,
    source: mediaSourceSchema,
    appData: appDataSchema.optional(),
  }),
);
export const produceDataRequest = request(
  'produceData',
  z.object({
    transportId: idSchema,
    sctpStreamParameters: sctpStreamParametersSchema,
    label: clientText({ max: 64 }).default(''),
    protocol: clientText({ max: 64 }).default(''),
    source: dataSourceSchema,
  }),
);
export const consumeRequest = request(
  'consume',
  z.object({ transportId: idSchema, producerId: idSchema }),
);
export const producerActionRequest = z.object({
  method: z.enum(['pauseProducer', 'resumeProducer', 'closeProducer']),
  data: z.object({ producerId: idSchema }),
});
export const consumerActionRequest = z.object({
  method: z.enum(['pauseConsumer', 'resumeConsumer']),
  data: z.object({ consumerId: idSchema }),
});
export const closeDataProducerRequest = request(
  'closeDataProducer',
  z.object({ dataProducerId: idSchema }),
);
export const leaveRequest = request('leave', z.object({}).default({}));

export const signallingRequestSchema = z.union([
  getRouterRtpCapabilitiesRequest,
  joinRequest,
  createWebRtcTransportRequest,
  connectWebRtcTransportRequest,
  produceRequest,
  produceDataRequest,
  consumeRequest,
  producerActionRequest,
  consumerActionRequest,
  closeDataProducerRequest,
  leaveRequest,
  // avatar rendering (shared/src/avatar/avatarProtocol.ts)
  listIdentitiesRequest,
  startAvatarRequest,
  stopAvatarRequest,
]);

export type SignallingRequest = z.infer<typeof signallingRequestSchema>;
export type SignallingMethod = SignallingRequest['method'];
/** A method's parsed `data`. Distributes over the union so that methods sharing one schema
 * (pause/resume/closeProducer, pause/resumeConsumer) resolve too (`Extract` gave `never`). */
export type RequestData<M extends SignallingMethod> = SignallingRequest extends infer R
  ? R extends { method: infer RM; data: infer D }
    ? M extends RM
      ? D
      : never
    : never
  : never;

/** Client-side input type: fields with defaults may be omitted. */
export type SignallingRequestInput = z.input<typeof signallingRequestSchema>;

export const signallingMethods: readonly SignallingMethod[] = [
  'getRouterRtpCapabilities',
  'join',
  'createWebRtcTransport',
  'connectWebRtcTransport',
  'produce',
  'produceData',
  'consume',
  'pauseProducer',
  'resumeProducer',
  'closeProducer',
  'pauseConsumer',
  'resumeConsumer',
  'closeDataProducer',
  'leave',
  'listIdentities',
  'startAvatar',
  'stopAvatar',
];
