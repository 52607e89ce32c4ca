import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignallingClient } from './SignallingClient';
import { SignallingError } from './SignallingError';

/**
 * A real socket.io server that answers with whatever each test scripts, so the client's
 * checking of answers and notifications is exercised over a real socket.
 */
describe('SignallingClient', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  let answer: (request: unknown, ack: (response: unknown) => void, socket: Socket) => void;
  const clients: SignallingClient[] = [];

  beforeEach(async () => {
    http = createServer();
    io = new Server(http);
    io.on('connection', (socket) => {
      socket.on('request', (request: unknown, ack: (response: unknown) => void) => answer(request, ack, socket));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await io.close();
  });

  const connect = async (options: { requestTimeoutMs?: number } = {}): Promise<SignallingClient> => {
    const client = await SignallingClient.connect({ url, ...options });
    clients.push(client);
    return client;
  };

  it('sends { method, data } and resolves with the checked result', async () => {
    let seen: unknown;
    answer = (request, ack) => {
      seen = request;
      ack({ ok: true, data: { producerId: 'p1' } });
    };
    const client = await connect();
    const result = await client.request('produce', {
      transportId: 't1',
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
      source: 'mic',
    });
    expect(result).toEqual({ producerId: 'p1' });
    expect(seen).toMatchObject({ method: 'produce', data: { transportId: 't1', source: 'mic' } });
  });

  it("rejects with the server's error code, message and retry hint", async () => {
    answer = (_request, ack) => ack({ ok: false, error: { code: 'NOT_FOUND', message: 'no such transport', retryable: false } });
    const client = await connect();
    const error = await client.request('consume', { transportId: 't', producerId: 'p' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignallingError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false, origin: 'server', method: 'consume' });
  });

  it('rejects an answer that does not match the response schema or the result schema', async () => {
    const client = await connect();
    answer = (_request, ack) => ack({ ok: 'yes' });
    await expect(client.request('leave', {})).rejects.toMatchObject({ origin: 'bad-response' });
    answer = (_request, ack) => ack({ ok: true, data: { peerId: 42, peers: 'none', producers: [] } });
    await expect(
      client.request('join', { roomId: 'r', displayName: 'n', rtpCapabilities: {} }),
    ).rejects.toMatchObject({ origin: 'bad-response', code: 'INTERNAL' });
  });

  it('gives up on a request the server never answers', async () => {
    answer = () => undefined;
    const client = await connect({ requestTimeoutMs: 200 });
    await expect(client.request('leave', {})).rejects.toMatchObject({ origin: 'timeout', retryable: true });
  });

  it('emits valid notifications and drops and counts malformed ones', async () => {
    let serverSocket: Socket | undefined;
    answer = (_request, ack, socket) => {
      serverSocket = socket;
      ack({ ok: true, data: {} });
    };
    const client = await connect();
    await client.request('leave', {});
    const received: unknown[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    client.on('notification', (n) => received.push(n));
    serverSocket?.emit('notification', { type: 'peerLeft', data: { peerId: 42 } });
    serverSocket?.emit('notification', { type: 'selfDestruct', data: {} });
    serverSocket?.emit('notification', 'garbage');
    serverSocket?.emit('notification', { type: 'peerLeft', data: { peerId: 'p2' } });
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toEqual({ type: 'peerLeft', data: { peerId: 'p2' } });
    expect(client.droppedNotifications).toBe(3);
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });

  it('reports a dropped socket once, and not after close()', async () => {
    answer = (_request, ack) => ack({ ok: true, data: {} });
    const client = await connect();
    const reasons: string[] = [];
    client.on('disconnected', (reason) => reasons.push(reason));
    io.disconnectSockets(true);
    await expect.poll(() => reasons.length).toBe(1);
    await expect(client.request('leave', {})).rejects.toMatchObject({ origin: 'disconnected' });

    const other = await connect();
    const otherReasons: string[] = [];
    other.on('disconnected', (reason) => otherReasons.push(reason));
    other.close();
    other.close();
    expect(other.closed).toBe(true);
    expect(otherReasons).toEqual([]);
  });

  it('fails to connect with a clear error when nothing listens', async () => {
    await io.close();
    await expect(SignallingClient.connect({ url, connectTimeoutMs: 1000 })).rejects.toMatchObject({ origin: 'disconnected' });
  });
});
