import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { SignallingTestClient } from '../testing/SignallingTestClient';
import { startTestServer } from '../testing/startTestServer';

let server: AvatarServer;
const clients: SignallingTestClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ mediasoup: { numWorkers: 2 } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('WorkerPool', () => {
  it('starts one worker per configured core and spreads rooms across them', async () => {
    expect(server.workers.workers).toHaveLength(2);
    const a = await SignallingTestClient.connect(server.url);
    const b = await SignallingTestClient.connect(server.url);
    clients.push(a, b);
    await a.join('spread-1', 'A');
    await b.join('spread-2', 'B');
    const pids = new Set([server.rooms.get('spread-1')!.worker.pid, server.rooms.get('spread-2')!.worker.pid]);
    expect(pids.size).toBe(2);
    a.close();
    b.close();
    await expect.poll(() => server.rooms.size).toBe(0);
  });

  it('replaces a worker that dies and closes its rooms with a roomClosed notification clients receive', async () => {
    const alice = await SignallingTestClient.connect(server.url);
    clients.push(alice);
    await alice.join('doomed', 'Alice');
    const room = server.rooms.get('doomed')!;
    const victim = room.worker;
    const died = once(server.workers, 'workerDied');
    const replaced = once(server.workers, 'workerReplaced');

    process.kill(victim.pid, 'SIGKILL');

    const [{ worker, error }] = (await died) as [{ worker: typeof victim; error: Error }];
    expect(worker).toBe(victim);
    expect(error).toBeInstanceOf(Error);
    const notice = await alice.waitFor('roomClosed');
    expect(notice.data.reason).toBe('workerDied');
    expect(room.closed).toBe(true);
    expect(server.rooms.get('doomed')).toBeUndefined();

    const [{ diedPid, worker: replacement }] = (await replaced) as [{ diedPid: number; worker: typeof victim }];
    expect(diedPid).toBe(victim.pid);
    expect(replacement.pid).not.toBe(victim.pid);
    expect(server.workers.workers).toHaveLength(2);
    expect(server.workers.workers).toContain(replacement);

    // The socket stayed connected: the same client can join again, on a live worker.
    expect(alice.socket.connected).toBe(true);
    await alice.request('leave', {}).catch(() => undefined); // already not joined: NOT_JOINED is fine
    await alice.join('doomed', 'Alice');
    expect(server.rooms.get('doomed')!.worker.died).toBe(false);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^avatar_mediasoup_worker_deaths_total 1$/m);
    expect(metrics).toMatch(/^avatar_rooms_closed_total\{reason="workerDied"\} 1$/m);
  });
});
