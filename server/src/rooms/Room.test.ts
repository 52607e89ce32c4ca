import { once } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SignallingNotification } from '@shared/signalling';
import { loadConfig } from '../config';
import { ServerMetrics } from '../metrics/ServerMetrics';
import { opusRtpParameters } from '../testing/SignallingTestClient';
import type { Peer, TransportAppData } from './Peer';
import { Room, type RoomDataMessage } from './Room';

const config = loadConfig({}, { limits: { maxPeersPerRoom: 2, emptyRoomTimeoutMs: 60_000 } });
const logger = pino({ level: 'silent' });
let worker: ms.Worker;
let room: Room | undefined;

beforeAll(async () => {
  worker = await mediasoup.createWorker({ logLevel: 'error' });
});
afterAll(() => worker.close());
afterEach(() => {
  room?.close();
  room = undefined;
});

const newRoom = async (id = 'unit') => (room = await Room.create({ id, worker, config, logger, metrics: new ServerMetrics() }));

function joinPeer(r: Room, name: string): { peer: Peer; inbox: SignallingNotification[] } {
  const inbox: SignallingNotification[] = [];
  const peer = r.join({
    displayName: name,
    rtpCapabilities: r.rtpCapabilities,
    sctpCapabilities: { numStreams: { OS: 1024, MIS: 1024 } },
    notify: (n) => inbox.push(n),
  });
  return { peer, inbox };
}

describe('Room', () => {
  it('tells peers about joins, producers, consumers and leaves, and closes when empty', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const bob = joinPeer(r, 'Bob');
    expect(alice.inbox).toEqual([{ type: 'peerJoined', data: { peer: { id: bob.peer.id, displayName: 'Bob', kind: 'human' } } }]);

    const send = await r.createWebRtcTransport(alice.peer, { direction: 'send' });
    expect(send.sctpParameters).toBeDefined();
    const producer = await r.produce(alice.peer, {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(1111),
      source: 'mic',
    });
    expect(bob.inbox.at(-1)).toEqual({
      type: 'newProducer',
      data: { producerId: producer.id, peerId: alice.peer.id, kind: 'audio', source: 'mic', paused: false },
    });

    const recv = await r.createWebRtcTransport(bob.peer, { direction: 'recv' });
    const consumed = await r.consume(bob.peer, { transportId: recv.transportId, producerId: producer.id });
    expect(consumed).toMatchObject({ producerId: producer.id, peerId: alice.peer.id, kind: 'audio', source: 'mic' });
    expect(bob.peer.consumers.size).toBe(1);

    await r.setProducerPaused(alice.peer, producer.id, true);
    await expect.poll(() => bob.inbox.some((n) => n.type === 'consumerPaused')).toBe(true);

    const closed = once(r, 'close');
    alice.peer.close();
    expect(bob.inbox).toContainEqual({ type: 'producerClosed', data: { producerId: producer.id } });
    expect(bob.inbox).toContainEqual({ type: 'peerLeft', data: { peerId: alice.peer.id } });
    // The worker reports the consumer's end asynchronously.
    await expect.poll(() => bob.inbox).toContainEqual({ type: 'consumerClosed', data: { consumerId: consumed.consumerId } });
    expect(bob.peer.consumers.size).toBe(0);
    expect(r.closed).toBe(false);

    bob.peer.close();
    expect(await closed).toEqual(['empty']);
    expect(r.router.closed).toBe(true);
    expect((await worker.dump()).routerIds).not.toContain(r.router.id);
  });

  it('answers NOT_FOUND (not INTERNAL) to a resume of a consumer the worker closed an instant earlier', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const bob = joinPeer(r, 'Bob');
    const send = await r.createWebRtcTransport(alice.peer, { direction: 'send' });
    const producer = await r.produce(alice.peer, { transportId: send.transportId, kind: 'audio', rtpParameters: opusRtpParameters(2222), source: 'mic' });
    const recv = await r.createWebRtcTransport(bob.peer, { direction: 'recv' });
    const consumed = await r.consume(bob.peer, { transportId: recv.transportId, producerId: producer.id });
    // The producer closes (e.g. its avatar stopped); the consumer's end reaches Node only later,
    // after the page has already asked to resume it.
    alice.peer.producers.get(producer.id)?.close();
    const resume = r.setConsumerPaused(bob.peer, consumed.consumerId, false);
    await expect(resume).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('closes a peer with all it owns: transports, producers, consumers, data producers', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const bob = joinPeer(r, 'Bob');
    const send = await r.createWebRtcTransport(alice.peer, { direction: 'send' });
    const recv = await r.createWebRtcTransport(alice.peer, { direction: 'recv' });
    const bobSend = await r.createWebRtcTransport(bob.peer, { direction: 'send' });
    const bobProducer = await r.produce(bob.peer, {
      transportId: bobSend.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(2222),
      source: 'mic',
    });
    await r.produce(alice.peer, { transportId: send.transportId, kind: 'audio', rtpParameters: opusRtpParameters(3333), source: 'mic' });
    await r.consume(alice.peer, { transportId: recv.transportId, producerId: bobProducer.id });
    await r.produceData(alice.peer, {
      transportId: send.transportId,
      sctpStreamParameters: { streamId: 1, ordered: true },
      label: 'chat',
      protocol: '',
      source: 'chat',
    });
    expect((await r.router.dump()).transportIds).toHaveLength(4); // 3 WebRTC + the data DirectTransport
    alice.peer.close();
    alice.peer.close(); // idempotent
    expect(alice.peer.transports.size + alice.peer.producers.size + alice.peer.consumers.size + alice.peer.dataProducers.size).toBe(0);
    const dump = await r.router.dump();
    expect(dump.transportIds).toHaveLength(2); // Bob's send transport + the DirectTransport
    expect(dump.mapProducerIdConsumerIds).toEqual([{ key: bobProducer.id, values: [] }]);
    expect(dump.mapDataProducerIdDataConsumerIds).toEqual([]);
    expect(dump.mapDataConsumerIdDataProducerId).toEqual([]);
  });

  it('emits every data-channel message to server code, binary and text, byte-exact', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    // A DirectTransport stands in for the browser's SCTP transport: the server side (a
    // DataConsumer on the room's DirectTransport) is the same either way.
    const direct = await r.router.createDirectTransport<TransportAppData>({ maxMessageSize: 262_144, appData: { peerId: alice.peer.id, direction: 'send' } });
    alice.peer.addTransport(direct);
    const dataProducer = await r.produceData(alice.peer, {
      transportId: direct.id,
      sctpStreamParameters: { streamId: 0 },
      label: 'motion-v1',
      protocol: '',
      source: 'motion',
    });
    const received: RoomDataMessage[] = [];
    r.on('data', (m) => received.push(m));
    const binary = Buffer.from([0, 1, 2, 253, 254, 255, 0, 128]);
    await dataProducer.send(binary);
    await dataProducer.send('hello ✓');
    await dataProducer.send(Buffer.alloc(0));
    await expect.poll(() => received.length).toBe(3);
    expect(received[0]).toMatchObject({ peer: alice.peer, dataProducerId: dataProducer.id, source: 'motion', label: 'motion-v1', ppid: 53 });
    expect(Buffer.compare(received[0]!.message, binary)).toBe(0);
    expect(received[1]!.ppid).toBe(51);
    expect(received[1]!.message.toString('utf8')).toBe('hello ✓');
    expect(received[2]!.ppid).toBe(57);
    expect(received[2]!.message.length).toBe(0);
  });

  it('rejects what a peer may not do: other peers\' ids, wrong directions, a full room, calls after close', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const bob = joinPeer(r, 'Bob');
    expect(() => joinPeer(r, 'Carol')).toThrow(expect.objectContaining({ code: 'ROOM_FULL' }));
    const aliceSend = await r.createWebRtcTransport(alice.peer, { direction: 'send' });
    await expect(
      r.produce(bob.peer, { transportId: aliceSend.transportId, kind: 'audio', rtpParameters: opusRtpParameters(1), source: 'mic' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(r.consume(alice.peer, { transportId: aliceSend.transportId, producerId: 'nope' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      r.produce(alice.peer, {
        transportId: aliceSend.transportId,
        kind: 'video',
        rtpParameters: { codecs: [{ mimeType: 'video/NOPE', payloadType: 100, clockRate: 90000 }], encodings: [{ ssrc: 5 }] },
        source: 'camera',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    r.close('closedByServer');
    expect(alice.inbox.at(-1)).toEqual({
      type: 'roomClosed',
      data: { reason: 'closedByServer', message: 'The call was ended by the server.' },
    });
    expect(alice.peer.closed && bob.peer.closed).toBe(true);
    await expect(r.createWebRtcTransport(alice.peer, { direction: 'send' })).rejects.toMatchObject({ code: 'ROOM_CLOSED' });
  });

  it('holds per-peer limits even against a burst of concurrent requests', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => r.createWebRtcTransport(alice.peer, { direction: 'send' })));
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(config.limits.maxTransportsPerPeer);
    const rejected = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    expect(rejected[0]?.reason).toMatchObject({ code: 'BAD_REQUEST', message: 'at most 4 transports per peer' });
    expect(alice.peer.transports.size).toBe(4);
  });

  it('publishes a server producer as a server peer and removes it on close', async () => {
    const r = await newRoom();
    const alice = joinPeer(r, 'Alice');
    const serverProducer = await r.addServerProducer({
      displayName: 'Avatar',
      kind: 'video',
      source: 'avatar',
      codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 },
      ssrc: 424242,
    });
    expect(serverProducer.rtpPort).toBeGreaterThan(0);
    expect(alice.inbox.map((n) => n.type)).toEqual(['peerJoined', 'newProducer']);
    expect(alice.inbox[0]).toMatchObject({ data: { peer: { kind: 'server', displayName: 'Avatar' } } });
    expect(r.producerInfos(alice.peer.id)).toEqual([
      { producerId: serverProducer.producer.id, peerId: serverProducer.peer.id, kind: 'video', source: 'avatar', paused: false },
    ]);
    serverProducer.close();
    expect(alice.inbox.slice(2).map((n) => n.type)).toEqual(['producerClosed', 'peerLeft']);
    expect(r.closed).toBe(false); // only humans keep a room alive; Alice is still here
  });

  it('closes a room that nobody joins within the empty-room timeout', async () => {
    const quick = loadConfig({}, { limits: { emptyRoomTimeoutMs: 50 } });
    const r = (room = await Room.create({ id: 'idle', worker, config: quick, logger, metrics: new ServerMetrics() }));
    expect(await once(r, 'close')).toEqual(['empty']);
  });
});
