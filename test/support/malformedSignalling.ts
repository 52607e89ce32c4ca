/**
 * Hostile signalling traffic for the malformed-input e2e test: wrong types, unknown methods and
 * ids, calls before join and out of order, oversized and deeply nested payloads, random JSON.
 * Deterministic (seeded) so a failure can be replayed.
 */
import { seededRandom } from '@shared/seededRandom';
import { signallingMethods, type SignallingErrorCode, type SignallingMethod } from '@shared/signalling';

export interface MalformedCase {
  name: string;
  /** The `request` event payload (anything at all). */
  payload: unknown;
  /** The error code the server must answer with, when exactly one is right. */
  expect?: SignallingErrorCode | SignallingErrorCode[];
}

/** Ids of real objects in the room (owned by the browsers), for cross-peer access attempts. */
export interface VictimIds {
  roomId: string;
  transportIds: string[];
  producerIds: string[];
  consumerIds: string[];
  dataProducerIds: string[];
}

const uuidLike = (rand: () => number): string =>
  'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, () => Math.floor(rand() * 16).toString(16));

function randomJson(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 2 ** 32) - 2 ** 31;
    case 3:
      return [NaN, Infinity, -0, 1e308, -1e-308][Math.floor(rand() * 5)];
    case 4:
      return 'x'.repeat(Math.floor(rand() * 40));
    case 5:
      return ['join', 'produce', 'consume', '__proto__', 'constructor', '', '\u0000', '😀'][Math.floor(rand() * 8)];
    case 6:
      return Array.from({ length: Math.floor(rand() * 5) }, () => randomJson(rand, depth + 1));
    default: {
      const keys = ['method', 'data', 'roomId', 'transportId', 'producerId', 'kind', 'rtpParameters', '__proto__', 'x'];
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) out[keys[Math.floor(rand() * keys.length)] as string] = randomJson(rand, depth + 1);
      return out;
    }
  }
}

const validDtls = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] };
const validRtp = {
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
  encodings: [{ ssrc: 1234 }],
};

/** Well-formed requests that need a joined peer: sent before join they must get NOT_JOINED. */
export function beforeJoinCases(roomId: string): MalformedCase[] {
  const id = '00000000-0000-4000-8000-000000000000';
  const data: Record<SignallingMethod, unknown> = {
    getRouterRtpCapabilities: undefined,
    join: undefined,
    createWebRtcTransport: { direction: 'send' },
    connectWebRtcTransport: { transportId: id, dtlsParameters: validDtls },
    produce: { transportId: id, kind: 'video', rtpParameters: validRtp, source: 'camera' },
    produceData: { transportId: id, sctpStreamParameters: { streamId: 1 }, source: 'chat' },
    consume: { transportId: id, producerId: id },
    listIdentities: {},
    startAvatar: { identityId: 'demo' },
    stopAvatar: {},
    pauseProducer: { producerId: id },
    resumeProducer: { producerId: id },
    closeProducer: { producerId: id },
    pauseConsumer: { consumerId: id },
    resumeConsumer: { consumerId: id },
    closeDataProducer: { dataProducerId: id },
    leave: {},
  };
  void roomId;
  return signallingMethods
    .filter((method) => data[method] !== undefined)
    .map((method) => ({ name: `${method} before join`, payload: { method, data: data[method] }, expect: 'NOT_JOINED' as const }));
}

/** Methods that need a joined peer (a stranger's well-formed call to them still fails). */
const joinedOnly = signallingMethods.filter((m) => m !== 'getRouterRtpCapabilities' && m !== 'leave');

/** Garbage for a socket that has NOT joined: every case must fail, however the dice fall. */
export function garbageCases(seed: number, count: number): MalformedCase[] {
  const rand = seededRandom(seed);
  const fixed: MalformedCase[] = [
    { name: 'null payload', payload: null, expect: 'BAD_REQUEST' },
    { name: 'string payload', payload: 'join', expect: 'BAD_REQUEST' },
    { name: 'number payload', payload: 42, expect: 'BAD_REQUEST' },
    { name: 'array payload', payload: [{ method: 'join' }], expect: 'BAD_REQUEST' },
    { name: 'empty object', payload: {}, expect: 'BAD_REQUEST' },
    { name: 'unknown method', payload: { method: 'explode', data: {} }, expect: 'BAD_REQUEST' },
    { name: 'method of wrong type', payload: { method: 7, data: {} }, expect: 'BAD_REQUEST' },
    { name: 'prototype pollution', payload: JSON.parse('{"method":"join","data":{"__proto__":{"admin":true}}}'), expect: 'BAD_REQUEST' },
    { name: 'join with numbers for strings', payload: { method: 'join', data: { roomId: 5, displayName: {}, rtpCapabilities: [] } }, expect: 'BAD_REQUEST' },
    { name: 'join with bad room id', payload: { method: 'join', data: { roomId: '../etc', displayName: 'x', rtpCapabilities: {} } }, expect: 'BAD_REQUEST' },
    { name: 'join with empty name', payload: { method: 'join', data: { roomId: 'r', displayName: '   ', rtpCapabilities: {} } }, expect: 'BAD_REQUEST' },
    { name: 'join with a NUL in the name', payload: { method: 'join', data: { roomId: 'r', displayName: 'Bob\u0000Admin', rtpCapabilities: {} } }, expect: 'BAD_REQUEST' },
    { name: 'data-channel label with a NUL', payload: { method: 'produceData', data: { transportId: 't', sctpStreamParameters: { streamId: 1 }, label: 'chat\u0000room-7', source: 'chat' } }, expect: 'BAD_REQUEST' },
    { name: 'join with 500 codecs', payload: { method: 'join', data: { roomId: 'r', displayName: 'x', rtpCapabilities: { codecs: Array.from({ length: 500 }, () => ({ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 })) } } }, expect: 'BAD_REQUEST' },
    { name: 'produce with NaN payload type', payload: { method: 'produce', data: { transportId: 'x', kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: null, clockRate: 90000 }] }, source: 'camera' } }, expect: 'BAD_REQUEST' },
    { name: 'produce with unknown source', payload: { method: 'produce', data: { transportId: 'x', kind: 'video', rtpParameters: validRtp, source: 'screen' } }, expect: 'BAD_REQUEST' },
    { name: 'consume with id of 10k chars', payload: { method: 'consume', data: { transportId: 'x'.repeat(10_000), producerId: 'y' } }, expect: 'BAD_REQUEST' },
    { name: 'transport direction sideways', payload: { method: 'createWebRtcTransport', data: { direction: 'sideways' } }, expect: 'BAD_REQUEST' },
    { name: 'sctp stream id out of range', payload: { method: 'produceData', data: { transportId: 'x', sctpStreamParameters: { streamId: 70_000 }, source: 'chat' } }, expect: 'BAD_REQUEST' },
    { name: 'deeply nested data', payload: { method: 'join', data: nested(2000) }, expect: 'BAD_REQUEST' },
    { name: '100 KB display name', payload: { method: 'join', data: { roomId: 'r', displayName: 'n'.repeat(100_000), rtpCapabilities: {} } }, expect: 'PAYLOAD_TOO_LARGE' },
    { name: '200 KB junk field', payload: { method: 'getRouterRtpCapabilities', data: { roomId: 'r', junk: 'j'.repeat(200_000) } }, expect: 'PAYLOAD_TOO_LARGE' },
    { name: 'binary payload', payload: Buffer.alloc(64, 7), expect: 'BAD_REQUEST' },
  ];
  const random: MalformedCase[] = [];
  for (let i = 0; random.length < count; i++) {
    const shape = i % 4;
    if (shape === 0) random.push({ name: `random JSON #${i}`, payload: randomJson(rand) });
    else if (shape === 1) {
      const method = joinedOnly[Math.floor(rand() * joinedOnly.length)];
      random.push({ name: `${method} with random data #${i}`, payload: { method, data: randomJson(rand) } });
    } else if (shape === 2) {
      // A real method with one field of the wrong type.
      const method = joinedOnly[Math.floor(rand() * joinedOnly.length)];
      random.push({ name: `${method} with a wrong-typed field #${i}`, payload: { method, data: { roomId: rand(), transportId: [], producerId: {}, consumerId: false, displayName: 1, direction: 3, kind: 'smell' } } });
    } else {
      random.push({ name: `random method name #${i}`, payload: { method: uuidLike(rand), data: randomJson(rand) } });
    }
  }
  return [...fixed, ...random];
}

/** Well-formed requests naming objects that do not exist or belong to other peers. */
export function foreignIdCases(victims: VictimIds, seed: number, count: number): MalformedCase[] {
  const rand = seededRandom(seed);
  const any = (ids: string[]): string => (ids.length > 0 && rand() < 0.6 ? (ids[Math.floor(rand() * ids.length)] as string) : uuidLike(rand));
  const out: MalformedCase[] = [];
  for (let i = 0; out.length < count; i++) {
    switch (i % 8) {
      case 0:
        out.push({ name: `consume on a foreign transport #${i}`, payload: { method: 'consume', data: { transportId: any(victims.transportIds), producerId: any(victims.producerIds) } }, expect: 'NOT_FOUND' });
        break;
      case 1:
        out.push({ name: `close a foreign producer #${i}`, payload: { method: 'closeProducer', data: { producerId: any(victims.producerIds) } }, expect: 'NOT_FOUND' });
        break;
      case 2:
        out.push({ name: `pause a foreign producer #${i}`, payload: { method: 'pauseProducer', data: { producerId: any(victims.producerIds) } }, expect: 'NOT_FOUND' });
        break;
      case 3:
        out.push({ name: `pause a foreign consumer #${i}`, payload: { method: 'pauseConsumer', data: { consumerId: any(victims.consumerIds) } }, expect: 'NOT_FOUND' });
        break;
      case 4:
        out.push({ name: `connect a foreign transport #${i}`, payload: { method: 'connectWebRtcTransport', data: { transportId: any(victims.transportIds), dtlsParameters: validDtls } }, expect: 'NOT_FOUND' });
        break;
      case 5:
        out.push({ name: `produce on a foreign transport #${i}`, payload: { method: 'produce', data: { transportId: any(victims.transportIds), kind: 'video', rtpParameters: validRtp, source: 'camera' } }, expect: 'NOT_FOUND' });
        break;
      case 6:
        out.push({ name: `close a foreign data producer #${i}`, payload: { method: 'closeDataProducer', data: { dataProducerId: any(victims.dataProducerIds) } }, expect: 'NOT_FOUND' });
        break;
      default:
        out.push({ name: `join again #${i}`, payload: { method: 'join', data: { roomId: victims.roomId, displayName: 'again', rtpCapabilities: {} } }, expect: 'ALREADY_JOINED' });
    }
  }
  return out;
}

function nested(depth: number): unknown {
  let value: unknown = { roomId: 'r' };
  for (let i = 0; i < depth; i++) value = { data: value };
  return value;
}
