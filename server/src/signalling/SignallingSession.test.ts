import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@shared/seededRandom';
import type { SignallingResponse } from '@shared/signalling';
import type { AvatarServer } from '../AvatarServer';
import { SignallingTestClient, opusRtpParameters } from '../testing/SignallingTestClient';
import { startTestServer } from '../testing/startTestServer';

let server: AvatarServer;
const clients: SignallingTestClient[] = [];
const connect = async (s = server) => {
  const client = await SignallingTestClient.connect(s.url);
  clients.push(client);
  return client;
};
const errorOf = (response: SignallingResponse) => (response.ok ? undefined : response.error);

beforeAll(async () => {
  server = await startTestServer({ limits: { requestsPerSecond: 10_000, requestBurst: 10_000 } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('SignallingSession', () => {
  it('answers calls before join with NOT_JOINED', async () => {
    const c = await connect();
    for (const [method, data] of [
      ['createWebRtcTransport', { direction: 'send' }],
      ['produce', { transportId: 't', kind: 'audio', rtpParameters: opusRtpParameters(1), source: 'mic' }],
      ['resumeConsumer', { consumerId: 'c' }],
      ['leave', {}],
    ] as const) {
      expect(errorOf(await c.raw({ method, data }))).toMatchObject({ code: 'NOT_JOINED', retryable: false });
    }
  });

  it('explains schema failures as BAD_REQUEST naming the fields', async () => {
    const c = await connect();
    const wrongType = errorOf(await c.raw({ method: 'join', data: { roomId: 'ok', displayName: 42, rtpCapabilities: {} } }));
    expect(wrongType?.code).toBe('BAD_REQUEST');
    expect(wrongType?.message).toMatch(/^invalid "join" request: data\.displayName/);
    const noMethod = errorOf(await c.raw('hello'));
    expect(noMethod?.message).toMatch(/not a signalling request/);
    const badRoom = errorOf(await c.raw({ method: 'getRouterRtpCapabilities', data: { roomId: '../etc' } }));
    expect(badRoom?.message).toMatch(/room id may contain only/);
  });

  it('refuses a second join, and other peers\' or unknown ids with NOT_FOUND', async () => {
    const alice = await connect();
    const mallory = await connect();
    await alice.join('ids', 'Alice');
    await mallory.join('ids', 'Mallory');
    expect(errorOf(await alice.raw({ method: 'join', data: { roomId: 'ids', displayName: 'Again', rtpCapabilities: {} } }))?.code).toBe(
      'ALREADY_JOINED',
    );
    const send = await alice.request('createWebRtcTransport', { direction: 'send' });
    const producer = await alice.request('produce', {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(5151),
      source: 'mic',
    });
    for (const [method, data] of [
      ['connectWebRtcTransport', { transportId: send.transportId, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] } }],
      ['pauseProducer', { producerId: producer.producerId }],
      ['closeProducer', { producerId: producer.producerId }],
      ['produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opusRtpParameters(6), source: 'mic' }],
      ['pauseConsumer', { consumerId: randomUUID() }],
      ['closeDataProducer', { dataProducerId: randomUUID() }],
    ] as const) {
      expect(errorOf(await mallory.raw({ method, data })), method).toMatchObject({ code: 'NOT_FOUND' });
    }
    const recv = await mallory.request('createWebRtcTransport', { direction: 'recv' });
    expect(errorOf(await mallory.raw({ method: 'consume', data: { transportId: recv.transportId, producerId: randomUUID() } }))?.code).toBe(
      'NOT_FOUND',
    );
    // Mallory can consume Alice's producer the legitimate way.
    const consumed = await mallory.request('consume', { transportId: recv.transportId, producerId: producer.producerId });
    await mallory.request('resumeConsumer', { consumerId: consumed.consumerId });
    // And a send transport cannot consume.
    const mSend = await mallory.request('createWebRtcTransport', { direction: 'send' });
    expect(errorOf(await mallory.raw({ method: 'consume', data: { transportId: mSend.transportId, producerId: producer.producerId } }))?.code).toBe(
      'BAD_REQUEST',
    );
    alice.close();
    await mallory.waitFor('consumerClosed', (n) => n.data.consumerId === consumed.consumerId);
    await mallory.waitFor('peerLeft');
  });

  it('refuses client strings with control characters (BAD_REQUEST) and keeps accepted ones exact', async () => {
    const alice = await connect();
    const { rtpCapabilities } = await alice.request('getRouterRtpCapabilities', { roomId: 'strings' });
    for (const displayName of ['Bob\u0000Admin', 'Eve\u202E', ' Padded', 'half\uD83D']) {
      const refused = errorOf(await alice.raw({ method: 'join', data: { roomId: 'strings', displayName, rtpCapabilities } }));
      expect(refused, JSON.stringify(displayName)).toMatchObject({ code: 'BAD_REQUEST' });
      expect(refused?.message).toMatch(/^invalid "join" request: data\.displayName/);
    }
    await alice.request('join', { roomId: 'strings', displayName: 'Zoë 👩🏽‍💻', rtpCapabilities: rtpCapabilities as never, sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } } });
    const bob = await connect();
    const bobJoined = await bob.join('strings', 'Bob');
    expect(bobJoined.peers.map((p) => p.displayName)).toEqual(['Zoë 👩🏽‍💻']);

    const send = await alice.request('createWebRtcTransport', { direction: 'send', sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } } });
    // The public bug report: this label was stored and reported as "chat".
    const refused = errorOf(
      await alice.raw({ method: 'produceData', data: { transportId: send.transportId, sctpStreamParameters: { streamId: 1 }, label: 'chat\u0000room-7', source: 'chat' } }),
    );
    expect(refused).toMatchObject({ code: 'BAD_REQUEST' });
    expect(refused?.message).toMatch(/data\.label: must not contain control characters: contains the control character U\+0000 at index 4/);
    const badProtocol = errorOf(
      await alice.raw({ method: 'produceData', data: { transportId: send.transportId, sctpStreamParameters: { streamId: 2 }, protocol: 'p\n', source: 'chat' } }),
    );
    expect(badProtocol?.code).toBe('BAD_REQUEST');
    await alice.request('produceData', { transportId: send.transportId, sctpStreamParameters: { streamId: 3 }, label: 'chat room-7 ✓', source: 'chat' });
    const badCname = errorOf(
      await alice.raw({ method: 'produce', data: { transportId: send.transportId, kind: 'audio', rtpParameters: { ...opusRtpParameters(77), rtcp: { cname: 'a\u0000b' } }, source: 'mic' } }),
    );
    expect(badCname?.code).toBe('BAD_REQUEST');
    const room = (await (await fetch(`${server.url}/api/rooms/strings`)).json()) as { dataProducers: { label: string }[]; peers: { displayName: string }[] };
    expect(room.dataProducers.map((d) => d.label)).toEqual(['chat room-7 ✓']);
    expect(room.peers.map((p) => p.displayName).sort()).toEqual(['Bob', 'Zoë 👩🏽‍💻']);
  });

  it('answers requests over maxRequestBytes with PAYLOAD_TOO_LARGE', async () => {
    const c = await connect();
    const big = { method: 'join', data: { roomId: 'big', displayName: 'x'.repeat(100_000), rtpCapabilities: {} } };
    expect(errorOf(await c.raw(big))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('survives a frame above socket.io\'s limit: that socket is dropped, the server keeps serving', async () => {
    const c = await connect();
    c.socket.emit('request', { method: 'join', data: { blob: 'y'.repeat(400_000) } }, () => undefined);
    await new Promise<void>((resolve) => c.socket.once('disconnect', () => resolve()));
    const other = await connect();
    await other.join('after-oversize', 'Still here');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('drops and counts requests that carry no ack', async () => {
    const c = await connect();
    const before = await metricValue('avatar_signalling_dropped_no_ack_total');
    const untypedEmit = (...args: unknown[]) => (c.socket as unknown as { emit(...a: unknown[]): void }).emit(...args);
    untypedEmit('request', { method: 'leave', data: {} });
    untypedEmit('request', 'garbage');
    await expect.poll(() => metricValue('avatar_signalling_dropped_no_ack_total')).toBe(before + 2);
    // The connection is still usable.
    expect(errorOf(await c.raw({ method: 'leave', data: {} }))?.code).toBe('NOT_JOINED');
  });

  it('rate-limits each connection with RATE_LIMITED (retryable) and spares the others', async () => {
    const strict = await startTestServer({ limits: { requestsPerSecond: 5, requestBurst: 10 } });
    try {
      const greedy = await connect(strict);
      const polite = await connect(strict);
      const answers = await Promise.all(Array.from({ length: 40 }, () => greedy.raw({ method: 'leave', data: {} })));
      const limited = answers.filter((a) => errorOf(a)?.code === 'RATE_LIMITED');
      expect(limited.length).toBeGreaterThanOrEqual(25);
      expect(errorOf(limited[0]!)?.retryable).toBe(true);
      expect(errorOf(await polite.raw({ method: 'leave', data: {} }))?.code).toBe('NOT_JOINED');
    } finally {
      await strict.close();
    }
  });
});

describe('signalling fuzz', () => {
  it('answers 600 garbled, out-of-order and oversized requests each with an error and stays up', async () => {
    const bystander = await connect();
    const bystanderPeer = await bystander.join('fuzz', 'Bystander');
    const bSend = await bystander.request('createWebRtcTransport', { direction: 'send' });
    await bystander.request('produce', { transportId: bSend.transportId, kind: 'audio', rtpParameters: opusRtpParameters(777), source: 'mic' });

    const outsider = await connect(); // never joins
    const insider = await connect();
    await insider.join('fuzz', 'Fuzzer');
    const iSend = await insider.request('createWebRtcTransport', { direction: 'send' });

    const rng = seededRandom(1234);
    const cases = Array.from({ length: 600 }, (_, i) => garbage(i, rng, { foreignTransportId: bSend.transportId, ownTransportId: iSend.transportId }));
    const answers: SignallingResponse[] = [];
    for (const [i, payload] of cases.entries()) {
      const client = i % 3 === 0 ? outsider : insider;
      answers.push(await client.raw(payload));
    }
    const notErrors = answers.map((a, i) => [a, cases[i]] as const).filter(([a]) => a.ok);
    expect(notErrors, JSON.stringify(notErrors.slice(0, 3)).slice(0, 500)).toEqual([]);
    const codes = new Set(answers.map((a) => errorOf(a)?.code));
    for (const code of ['BAD_REQUEST', 'NOT_JOINED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'ALREADY_JOINED']) expect(codes).toContain(code);
    expect(codes).not.toContain('INTERNAL');

    // Server alive, the bystander's call intact and still served.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const room = await (await fetch(`${server.url}/api/rooms/fuzz`)).json();
    expect(room.peers.map((p: { id: string }) => p.id)).toContain(bystanderPeer.peerId);
    expect(room.producers).toHaveLength(1);
    expect((await bystander.request('createWebRtcTransport', { direction: 'recv' })).transportId).toBeTruthy();
  });
});

async function metricValue(name: string): Promise<number> {
  const text = await server.metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(name));
  return Number(line?.split(' ')[1] ?? 0);
}

/** Requests that must all fail: malformed, wrong types, foreign or unknown ids, oversized. */
function garbage(i: number, rng: () => number, ids: { foreignTransportId: string; ownTransportId: string }): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const junk = (): unknown =>
    pick([null, true, 0, -1, 1e308, 'x', '', [], [1, 'a'], {}, { a: { b: { c: [] } } }, Buffer.from([1, 2, 3]), 'ü'.repeat(50)]);
  const idMethods = [
    ['connectWebRtcTransport', 'transportId'],
    ['pauseProducer', 'producerId'],
    ['resumeProducer', 'producerId'],
    ['closeProducer', 'producerId'],
    ['pauseConsumer', 'consumerId'],
    ['resumeConsumer', 'consumerId'],
    ['closeDataProducer', 'dataProducerId'],
  ] as const;
  switch (i % 12) {
    case 0:
      return junk();
    case 1:
      return { method: pick(['JOIN', 'drop', '__proto__', 'constructor', '', 'consume ']), data: junk() };
    case 2:
      return { method: pick(['join', 'produce', 'consume', 'createWebRtcTransport', 'produceData']), data: junk() };
    case 3: {
      const [method, key] = pick(idMethods);
      return { method, data: { [key]: randomUUID(), ...(method === 'connectWebRtcTransport' ? { dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } } : {}) } };
    }
    case 4:
      return { method: 'join', data: { roomId: 'fuzz', displayName: 'z'.repeat(70_000 + Math.floor(rng() * 100_000)), rtpCapabilities: {} } };
    case 5:
      return { method: 'join', data: { roomId: 'fuzz', displayName: '   ', rtpCapabilities: { codecs: 'none' } } };
    case 6:
      return JSON.parse('{"method":"produce","data":{"__proto__":{"transportId":"x"},"kind":"audio"}}');
    case 7:
      return { method: 'produce', data: { transportId: ids.ownTransportId, kind: 'video', source: 'camera', rtpParameters: { codecs: [{ mimeType: 'video/XYZ', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: Math.floor(rng() * 1e9) }] } } };
    case 8:
      return { method: 'consume', data: { transportId: ids.foreignTransportId, producerId: randomUUID() } };
    case 9: {
      let nested: unknown = 'bottom';
      for (let d = 0; d < 200; d++) nested = { d: nested };
      return { method: 'produceData', data: nested };
    }
    case 10:
      return { method: 'join', data: { roomId: 'fuzz', displayName: 'Twice', rtpCapabilities: {} } };
    default:
      return { method: 'connectWebRtcTransport', data: { transportId: ids.foreignTransportId, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } } };
  }
}
