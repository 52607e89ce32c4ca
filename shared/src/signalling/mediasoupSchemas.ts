/**
 * zod schemas for the mediasoup parameter objects that cross the signalling socket.
 *
 * They check shape, types and sizes so that garbage never reaches the mediasoup worker; the
 * worker still applies its own semantic checks (codec matching, SSRCs), and its errors come
 * back to the client as `BAD_REQUEST`. Objects are "loose": mediasoup adds fields between
 * releases, and unknown keys are passed through to it rather than silently dropped. Every string
 * is client text (clientText.ts): control characters are refused, never passed on to be cut.
 */
import { z } from 'zod';
import { clientText } from './clientText';

const shortString = clientText({ min: 1, max: 256 });
const id = clientText({ min: 1, max: 64 });
const uint32 = z.number().int().min(0).max(0xffffffff);
const codecParameterValue = z.union([clientText({ max: 1024 }), z.number().finite()]);

export const rtcpFeedbackSchema = z.looseObject({
  type: clientText({ min: 1, max: 64 }),
  parameter: clientText({ max: 64 }).optional(),
});

export const rtpCodecCapabilitySchema = z.looseObject({
  kind: z.enum(['audio', 'video']),
  mimeType: clientText({ min: 3, max: 64 }),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().min(1).max(1_000_000),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: z.record(clientText({ max: 64 }), codecParameterValue).optional(),
  rtcpFeedback: z.array(rtcpFeedbackSchema).max(32).optional(),
});

export const rtpHeaderExtensionSchema = z.looseObject({
  kind: z.enum(['audio', 'video']),
  uri: clientText({ min: 1, max: 256 }),
  preferredId: z.number().int().min(1).max(255),
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z.array(rtpCodecCapabilitySchema).max(128).optional(),
  headerExtensions: z.array(rtpHeaderExtensionSchema).max(64).optional(),
});

export const rtpCodecParametersSchema = z.looseObject({
  mimeType: clientText({ min: 3, max: 64 }),
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().min(1).max(1_000_000),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: z.record(clientText({ max: 64 }), codecParameterValue).optional(),
  rtcpFeedback: z.array(rtcpFeedbackSchema).max(32).optional(),
});

export const rtpEncodingParametersSchema = z.looseObject({
  ssrc: uint32.optional(),
  rid: clientText({ max: 32 }).optional(),
  codecPayloadType: z.number().int().min(0).max(127).optional(),
  rtx: z.looseObject({ ssrc: uint32 }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: clientText({ max: 16 }).optional(),
  scaleResolutionDownBy: z.number().positive().max(64).optional(),
  maxBitrate: z.number().int().positive().optional(),
  maxFramerate: z.number().positive().max(240).optional(),
  adaptivePtime: z.boolean().optional(),
  priority: clientText({ max: 16 }).optional(),
  networkPriority: clientText({ max: 16 }).optional(),
  active: z.boolean().optional(),
});

export const rtpParametersSchema = z.looseObject({
  mid: clientText({ max: 32 }).optional(),
  codecs: z.array(rtpCodecParametersSchema).min(1).max(32),
  headerExtensions: z
    .array(
      z.looseObject({
        uri: clientText({ min: 1, max: 256 }),
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: z.record(clientText({ max: 64 }), codecParameterValue).optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z.array(rtpEncodingParametersSchema).max(8).optional(),
  rtcp: z
    .looseObject({
      cname: clientText({ max: 256 }).optional(),
      reducedSize: z.boolean().optional(),
    })
    .optional(),
  msid: clientText({ max: 256 }).optional(),
});

export const dtlsParametersSchema = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.looseObject({
        algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
        value: clientText({ min: 1, max: 256 }),
      }),
    )
    .min(1)
    .max(8),
});

export const sctpCapabilitiesSchema = z.looseObject({
  numStreams: z.looseObject({
    OS: z.number().int().min(1).max(65535),
    MIS: z.number().int().min(1).max(65535),
  }),
});

export const sctpStreamParametersSchema = z.looseObject({
  streamId: z.number().int().min(0).max(65534),
  ordered: z.boolean().optional(),
  maxPacketLifeTime: z.number().int().min(0).max(65535).optional(),
  maxRetransmits: z.number().int().min(0).max(65535).optional(),
});

export const appDataSchema = z.record(clientText({ max: 64 }), z.union([clientText({ max: 256 }), z.number(), z.boolean()]));

export { id as idSchema, shortString as shortStringSchema };
