/**
 * Call lifecycles seen from the browser: a clean Leave closes the peer on the server (and the
 * empty room with it), and a mediasoup worker that dies shows the room-closed banner, after
 * which Rejoin brings the user back on the replacement worker.
 */
import { once } from 'node:events';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

describe('call lifecycle in real Chromium', () => {
  let server: AvatarServer;
  let browser: Browser;
  const peers: BrowserPeer[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    // Chromium's own generated fake camera and beep are enough here: no media is inspected.
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const peer of peers.splice(0)) await peer.close();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const join = async (roomId: string, displayName: string): Promise<BrowserPeer> => {
    const peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName });
    peers.push(peer);
    return peer;
  };

  it('closes the peer on the server when Leave is clicked, and the empty room after the last one', async () => {
    const roomId = 'e2e-leave';
    const alice = await join(roomId, 'Alice');
    const bob = await join(roomId, 'Bob');
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room not created');
    await waitFor(async () => (await alice.remoteTileNames()).includes('Bob'), { message: 'Bob never appeared to Alice' });
    const bobId = await bob.peerId();
    expect(room.peers.size).toBe(2);

    await bob.page.click('#leave-button');
    await bob.waitForState('ended');
    await waitFor(() => !room.peers.has(bobId ?? ''), { message: 'Bob is still a peer on the server' });
    // Alice's page drops Bob's tile, and Bob's page is back on the join form.
    await waitFor(async () => (await alice.remoteTileNames()).length === 0, { message: "Bob's tile stayed on Alice's page" });
    expect(await bob.page.locator('#join-form .join-message').textContent()).toBe('You left the call.');
    expect(room.closed).toBe(false);

    const roomClosed = once(room, 'close');
    await alice.page.click('#leave-button');
    expect(await roomClosed).toEqual(['empty']);
    expect(server.rooms.get(roomId)).toBeUndefined();
    expect((await fetch(`${server.url}/api/rooms/${roomId}`)).status).toBe(404);
    // Nothing of the room is left in the worker.
    const dump = await room.worker.dump();
    expect(dump.routerIds).not.toContain(room.router.id);
  });

  it('tells the user when the media server dies, and rejoins on the replacement', async () => {
    const roomId = 'e2e-worker';
    const alice = await join(roomId, 'Alice');
    const room = server.rooms.get(roomId);
    if (!room) throw new Error('room not created');
    const deadPid = room.worker.pid;

    const replaced = once(server.workers, 'workerReplaced');
    process.kill(deadPid, 'SIGKILL');
    await alice.waitForState('ended');
    expect(await alice.bannerText()).toBe('The media server restarted; rejoin to continue the call.');
    await expect.poll(() => alice.page.locator('#banner').isVisible()).toBe(true);
    expect(room.closed).toBe(true);
    const [{ worker }] = (await replaced) as [{ diedPid: number; worker: { pid: number } }];
    expect(worker.pid).not.toBe(deadPid);

    await alice.page.click('#banner .banner-action');
    await alice.waitForState('in-call');
    expect(await alice.bannerText()).toBe('');
    expect(server.rooms.get(roomId)?.worker.pid).toBe(worker.pid);
    // Media flows again: the camera reaches the new worker.
    await waitFor(async () => (await alice.outboundStats()).some((s) => s.kind === 'video' && s.framesEncoded > 0), {
      message: 'no video sent after rejoining',
    });
  });
});
