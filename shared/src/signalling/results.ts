/**
 * zod schemas for the `data` of each successful signalling response, so the client checks what
 * the server answers just as the server checks what the client asks. mediasoup parameter
 * objects stay `unknown` (mediasoup-client validates them itself); everything the client's own
 * code reads (ids, kinds, sources, flags) is checked here.
 */
import { z } from 'zod';
import { mediaSourceSchema, type SignallingMethod } from './requests';
import { peerInfoSchema, producerInfoSchema, type SignallingResults } from './responses';
import { avatarResultSchemas } from '../avatar/avatarProtocol';

const empty = z.looseObject({}).transform((): Record<string, never> => ({}));

export const signallingResultSchemas: { [M in SignallingMethod]: z.ZodType<SignallingResults[M], unknown> } = {
  getRouterRtpCapabilities: z.object({ rtpCapabilities: z.looseObject({}) }),
  join: z.object({
    peerId: z.string().min(1),
    peers: z.array(peerInfoSchema),
    producers: z.array(producerInfoSchema),
  }),
  createWebRtcTransport: z.object({
    transportId: z.string().min(1),
    iceParameters: z.looseObject({}),
    iceCandidates: z.array(z.looseObject({})),
    dtlsParameters: z.looseObject({}),
    sctpParameters: z.looseObject({}).optional(),
  }),
  connectWebRtcTransport: empty,
  produce: z.object({ producerId: z.string().min(1) }),
  produceData: z.object({ dataProducerId: z.string().min(1) }),
  consume: z.object({
    consumerId: z.string().min(1),
    producerId: z.string().min(1),
    peerId: z.string().min(1),
    kind: z.enum(['audio', 'video']),
    rtpParameters: z.looseObject({}),
    source: mediaSourceSchema,
    producerPaused: z.boolean(),
  }),
  pauseProducer: empty,
  resumeProducer: empty,
  closeProducer: empty,
  pauseConsumer: empty,
  resumeConsumer: empty,
  closeDataProducer: empty,
  leave: empty,
  ...avatarResultSchemas,
};
