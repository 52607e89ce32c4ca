import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { SignallingTestClient, opusRtpParameters } from '../testing/SignallingTestClient';
import { startTestServer } from '../testing/startTestServer';

const CYCLES = Number(process.env.LEAK_TEST_CYCLES ?? 2000);
const LANES = 4;
let consumed = 0;

let server: AvatarServer;
beforeAll(async () => {
  // Thousands of joins from one loopback address: lift the per-connection and per-address admission limits.
  server = await startTestServer({
    limits: {
      requestsPerSecond: 100_000,
      requestBurst: 100_000,
      joinsPerMinutePerConnection: 1_000_000,
      joinBurstPerConnection: 100_000,
      roomCreationsPerMinutePerAddress: 1_000_000,
      roomCreationBurstPerAddress: 100_000,
    },
  });
});
afterAll(async () => {
  await server.close();
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function workerRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** One lane: join, two transports, audio producer, data producer, consume the partner, leave. */
async function lane(index: number, cycles: number, onCycle: () => Promise<void>): Promise<void> {
  // Lanes 0 and 1 share a room (they see and consume each other); 2 and 3 have a room each,
  // created and closed on every cycle.
  const roomId = index < 2 ? 'leak-shared' : `leak-${index}`;
  let client = await SignallingTestClient.connect(server.url);
  try {
    for (let i = 0; i < cycles; i++) {
      const joined = await client.join(roomId, `lane${index}-${i}`);
      const send = await client.request('createWebRtcTransport', { direction: 'send' });
      const recv = await client.request('createWebRtcTransport', { direction: 'recv' });
      await client.request('produce', {
        transportId: send.transportId,
        kind: 'audio',
        rtpParameters: opusRtpParameters(100_000 + index * 10_000 + (i % 10_000)),
        source: 'mic',
      });
      await client.request('produceData', {
        transportId: send.transportId,
        sctpStreamParameters: { streamId: 1, ordered: false, maxRetransmits: 0 },
        label: 'motion',
        source: 'motion',
      });
      const announced = client.notifications.flatMap((n) => (n.type === 'newProducer' ? [n.data] : []));
      for (const producer of [...joined.producers, ...announced]) {
        // The partner may leave meanwhile: its producer is then gone (NOT_FOUND) or so is the room.
        await client.request('consume', { transportId: recv.transportId, producerId: producer.producerId }).then(
          () => (consumed += 1),
          (error: { code?: string }) => {
            if (error.code !== 'NOT_FOUND') throw error;
          },
        );
      }
      if (i % 50 === 49) {
        // Sometimes vanish without a goodbye: the disconnect must clean up the same way.
        client.close();
        client = await SignallingTestClient.connect(server.url);
      } else {
        await client.request('leave', {});
      }
      client.notifications.length = 0;
      await onCycle();
    }
  } finally {
    client.close();
  }
}

describe('RoomRegistry over thousands of joins and leaves', () => {
  it(`leaves no rooms, routers, transports or growing memory after ${CYCLES} join/leave cycles`, async () => {
    const worker = server.workers.workers[0]!;
    let done = 0;
    let warmHeap = 0;
    let warmRss = 0;
    let warmHandles = 0;
    const warmUpAt = Math.min(200, CYCLES / 4);
    const onCycle = async () => {
      done += 1;
      if (done === warmUpAt) {
        warmHeap = heapAfterGc();
        warmRss = workerRssBytes(worker.pid);
        warmHandles = process.getActiveResourcesInfo().length;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i, CYCLES / LANES, onCycle)));
    const elapsedMs = Date.now() - started;

    await expect.poll(() => server.rooms.size, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => server.signalling.sessionCount, { timeout: 10_000 }).toBe(0);
    const dump = await worker.dump();
    expect(dump.routerIds).toEqual([]);
    expect(dump.webRtcServerIds).toEqual([]);
    expect(dump.channelMessageHandlers.channelRequestHandlers).toEqual([]);
    expect(dump.channelMessageHandlers.channelNotificationHandlers).toEqual([]);

    const metrics = await server.metrics.registry.getMetricsAsJSON();
    const gauge = (name: string) => metrics.find((m) => m.name === name)?.values.reduce((s, v) => s + v.value, 0);
    expect(gauge('avatar_rooms')).toBe(0);
    expect(gauge('avatar_peers')).toBe(0);
    expect(gauge('avatar_socket_connections')).toBe(0);
    // The cycles really overlapped: peers consumed each other, rooms closed and were re-created.
    expect(consumed).toBeGreaterThan(CYCLES / 10);
    expect(gauge('avatar_rooms_created_total')).toBeGreaterThan(10);

    const heapGrowth = heapAfterGc() - warmHeap;
    const rssGrowth = workerRssBytes(worker.pid) - warmRss;
    const handles = process.getActiveResourcesInfo().length;
    console.log(
      `${CYCLES} cycles (${consumed} consumes) in ${elapsedMs} ms; node heap growth ${(heapGrowth / 2 ** 20).toFixed(1)} MiB, ` +
        `worker RSS ${(warmRss / 2 ** 20).toFixed(1)} MiB + ${(rssGrowth / 2 ** 20).toFixed(1)} MiB, active handles ${warmHandles} -> ${handles}`,
    );
    expect(heapGrowth).toBeLessThan(16 * 2 ** 20);
    expect(rssGrowth).toBeLessThan(32 * 2 ** 20);
    expect(handles).toBeLessThanOrEqual(warmHandles + 5);
  });
});
