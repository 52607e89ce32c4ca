/**
 * A client that never joins costs nothing, and one address cannot exhaust the server: the public
 * bug report (6 sockets × 190 getRouterRtpCapabilities with distinct room ids made 1000 routers
 * in 1.5 s, and every new room got ROOM_FULL for 30 s) replayed on loopback against the real
 * mediasoup worker. The flood comes from 127.0.0.1; another machine is 127.0.0.2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SignallingResponse } from '@shared/signalling';
import type { AvatarServer } from '../AvatarServer';
import type { ConfigInput, PartialDeep } from '../config';
import { SignallingTestClient } from '../testing/SignallingTestClient';
import { startTestServer } from '../testing/startTestServer';

let server: AvatarServer | undefined;
const clients: SignallingTestClient[] = [];

async function start(overrides: PartialDeep<ConfigInput> = {}): Promise<AvatarServer> {
  server = await startTestServer(overrides);
  return server;
}
async function connect(localAddress = '127.0.0.1'): Promise<SignallingTestClient> {
  const client = await SignallingTestClient.connect(server!.url, { localAddress });
  clients.push(client);
  return client;
}
async function routerCount(s: AvatarServer): Promise<number> {
  let n = 0;
  for (const worker of s.workers.workers) n += (await worker.dump()).routerIds.length;
  return n;
}
const codeOf = (r: SignallingResponse) => (r.ok ? 'ok' : r.error.code);
function tally(responses: SignallingResponse[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of responses) out[codeOf(r)] = (out[codeOf(r)] ?? 0) + 1;
  return out;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

describe('SignallingServer admission (flood from one address, real mediasoup worker)', () => {
  it('answers 6 sockets × 190 getRouterRtpCapabilities for distinct rooms without creating one router', async () => {
    const s = await start();
    const flood = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const responses = (
      await Promise.all(
        flood.map((c, i) => Promise.all(Array.from({ length: 190 }, (_, j) => c.raw({ method: 'getRouterRtpCapabilities', data: { roomId: `flood-${i}-${j}` } })))),
      )
    ).flat();
    expect(tally(responses)).toEqual({ ok: 1140 });
    expect(s.rooms.size).toBe(0);
    expect(await routerCount(s)).toBe(0);
    expect((await s.metrics.registry.getSingleMetric('avatar_rooms_created_total')!.get()).values[0]?.value ?? 0).toBe(0);

    // A legitimate user still gets in, and the capabilities they were given are the room's.
    const alice = await connect('127.0.0.2');
    const joined = await alice.join('demo', 'Alice');
    expect(joined.rtpCapabilities).toEqual(s.rooms.get('demo')!.rtpCapabilities);
    expect(await routerCount(s)).toBe(1);
  });

  it('limits joins per connection and new rooms per address; other addresses and existing rooms are unaffected', async () => {
    const s = await start();
    const limits = s.config.limits;
    const flood = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const { rtpCapabilities } = await flood[0]!.request('getRouterRtpCapabilities', { roomId: 'x' });
    const started = performance.now();
    // Each socket joins a new room and leaves it, 40 times (join/leave churn of distinct rooms).
    const responses = (
      await Promise.all(
        flood.map(async (c, i) => {
          const out: SignallingResponse[] = [];
          for (let j = 0; j < 40; j++) {
            const r = await c.raw({ method: 'join', data: { roomId: `churn-${i}-${j}`, displayName: 'F', rtpCapabilities } });
            out.push(r);
            if (r.ok) await c.request('leave', {});
          }
          return out;
        }),
      )
    ).flat();
    const seconds = (performance.now() - started) / 1000;
    const counts = tally(responses);
    expect(Object.keys(counts).sort()).toEqual(['RATE_LIMITED', 'ok']);
    // New rooms from one address: the burst plus what the rate refilled meanwhile, never more.
    const allowed = limits.roomCreationBurstPerAddress + Math.ceil((seconds * limits.roomCreationsPerMinutePerAddress) / 60);
    expect(counts.ok).toBeLessThanOrEqual(allowed);
    expect(counts.ok).toBeGreaterThanOrEqual(Math.min(allowed, limits.roomCreationBurstPerAddress));
    const refusal = responses.find((r) => !r.ok);
    expect(refusal).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', retryable: true } });
    expect(s.rooms.size).toBe(0); // every room closed with its last leave

    // One connection cannot churn joins faster than its own bucket, even into existing rooms.
    const bob = await connect('127.0.0.2');
    await bob.join('meeting', 'Bob');
    const churner = await connect('127.0.0.3');
    const churn: SignallingResponse[] = [];
    for (let j = 0; j < limits.joinBurstPerConnection + 5; j++) {
      const r = await churner.raw({ method: 'join', data: { roomId: 'meeting', displayName: 'C', rtpCapabilities } });
      churn.push(r);
      if (r.ok) await churner.request('leave', {});
    }
    expect(tally(churn).ok).toBe(limits.joinBurstPerConnection);
    expect(tally(churn).RATE_LIMITED).toBe(5);

    // The flooding address can still join a room that exists, from a fresh connection.
    const colleague = await connect('127.0.0.1');
    await expect(colleague.join('meeting', 'Colleague')).resolves.toMatchObject({ peerId: expect.any(String) });
    // And another address can create rooms.
    const carol = await connect('127.0.0.2');
    await expect(carol.join('new-room', 'Carol')).resolves.toMatchObject({ peerId: expect.any(String) });
  });

  it('a join that fails leaves no room behind', async () => {
    const s = await start();
    const c = await connect();
    const r = await c.raw({ method: 'join', data: { roomId: 'bad-caps', displayName: 'X', rtpCapabilities: { codecs: 'nonsense' } } });
    expect(codeOf(r)).toBe('BAD_REQUEST');
    const { rtpCapabilities } = await c.request('getRouterRtpCapabilities', { roomId: 'x' });
    await c.request('join', { roomId: 'ok-room', displayName: 'X', rtpCapabilities: rtpCapabilities as never });
    await c.request('leave', {});
    expect(s.rooms.size).toBe(0);
    expect(await routerCount(s)).toBe(0);
  });

  it('refuses connections past the per-address maximum with a reason, and frees the slot on disconnect', async () => {
    await start({ limits: { maxConnectionsPerAddress: 4 } });
    const four = await Promise.all(Array.from({ length: 4 }, () => connect()));
    const refused = await SignallingTestClient.connect(server!.url, { localAddress: '127.0.0.1' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/too many connections from your address \(at most 4\)/);
    expect((refused as { data?: unknown }).data).toMatchObject({ code: 'RATE_LIMITED' });
    await expect(connect('127.0.0.2')).resolves.toBeDefined();
    four[0]!.close();
    await expect.poll(() => server!.signalling.addressLimits.usage('127.0.0.1').connections).toBe(3);
    await expect(connect('127.0.0.1')).resolves.toBeDefined();
  });

  it('counts a trusted proxy\'s clients by X-Forwarded-For', async () => {
    await start({ http: { trustProxy: true }, limits: { maxConnectionsPerAddress: 1 } });
    const a = await SignallingTestClient.connect(server!.url, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    clients.push(a);
    const b = await SignallingTestClient.connect(server!.url, { headers: { 'x-forwarded-for': '198.51.100.9' } });
    clients.push(b);
    await expect(SignallingTestClient.connect(server!.url, { headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } })).rejects.toThrow(/too many connections/);
  });
});
