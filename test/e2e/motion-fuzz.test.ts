/**
 * Hostile traffic on the live motion channel, from a real browser page through the real SCTP
 * data channel and mediasoup's DirectTransport into the MotionStream:
 * - 10,000 random and mutated packets (and strings, empty messages, oversized ones): the server
 *   stays up, counts them as dropped by reason, and the page's real motion keeps flowing;
 * - a flood of replayed packets at the default rate limit: the token bucket drops the excess,
 *   and the stream recovers afterwards.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { MotionStreamStats } from '../../server/src/motion/MotionStream';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

const FUZZ_COUNT = 10_000;

/** Joins, turns avatar mode on and waits until the server plays motion from the page. */
async function joinInAvatarMode(browser: Browser, server: AvatarServer, roomId: string) {
  const peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Fuzzer', quality: 'medium' });
  const peerId = (await peer.peerId()) as string;
  await peer.page.evaluate(() => window.__avatar?.enable());
  const stream = await waitFor(() => server.motion.stream(roomId, peerId), {
    timeoutMs: 60_000,
    message: `no motion stream opened; page problems: ${peer.problems.join(' | ')}`,
  });
  // This file tests the motion channel alone: stop the server's rendering once it has started
  // (avatar mode and its motion stream stay on), leaving the CPU to the browser and the decoder.
  const serverPeer = server.rooms.get(roomId)?.peers.get(peerId);
  if (!serverPeer) throw new Error(`peer ${peerId} is not in room ${roomId}`);
  await waitFor(() => server.avatars.session(serverPeer), { timeoutMs: 60_000, message: 'the avatar did not start' });
  await server.avatars.stop(serverPeer);
  await waitFor(() => stream.stats().playedFrames > 10, { timeoutMs: 30_000, message: 'no motion played out' });
  return { peer, peerId, stream };
}

/** Waits until the played-frame count grows by `frames` (real motion flows). */
async function expectFlowing(stats: () => MotionStreamStats, frames: number): Promise<void> {
  const start = stats().playedFrames;
  await waitFor(() => stats().playedFrames >= start + frames, {
    timeoutMs: 15_000,
    message: `motion stopped flowing at ${stats().playedFrames} played (${JSON.stringify(stats().dropped)})`,
  });
}

describe('the live motion channel under hostile traffic', () => {
  let browser: Browser;

  beforeAll(async () => {
    const fakeVideo = await clipToY4m({ clip: 'd10.mp4', width: 640, height: 480, fps: 25, seconds: 12 });
    browser = await launchChromium({ fakeVideo });
  });

  afterAll(async () => {
    await browser?.close();
  });

  describe('10,000 random and mutated packets', () => {
    let server: AvatarServer;
    let peer: BrowserPeer | undefined;

    beforeAll(async () => {
      // A bucket deep enough that the fuzz reaches the decoder and validators, not just the limiter.
      // Avatar mode is refused where no identity is granted: grant the demo identity in every room.
      server = await startTestServer({ motion: { maxPacketsPerSecond: 100_000, burstPackets: 100_000 }, avatar: { roomGrants: { '*': ['demo'] } } });
    });

    afterAll(async () => {
      await peer?.close();
      await server?.close();
    });

    it('are all counted as bad, the server stays up, and real motion keeps flowing', async () => {
      const roomId = 'e2e-motion-fuzz';
      const joined = await joinInAvatarMode(browser, server, roomId);
      peer = joined.peer;
      const { stream } = joined;
      const before = stream.stats();
      const sentBefore = (await peer.page.evaluate(() => window.__avatar?.counters()?.sent)) ?? 0;

      const report = await peer.page.evaluate((count) => window.__avatar!.fuzz(count, 424242), FUZZ_COUNT);
      expect(report.sent).toBe(FUZZ_COUNT);
      const sentAfter = (await peer.page.evaluate(() => window.__avatar?.counters()?.sent)) ?? 0;
      const realDuringFuzz = sentAfter - sentBefore;

      // Nearly everything sent reaches the server: loopback, and the page paces on the channel's
      // buffer, but the channel is unreliable by design (maxRetransmits 0), so a little may go.
      const expected = FUZZ_COUNT + realDuringFuzz;
      await waitFor(() => stream.stats().receivedPackets - before.receivedPackets >= 0.95 * expected, {
        timeoutMs: 30_000,
        message: `server received ${stream.stats().receivedPackets - before.receivedPackets} of ${expected}`,
      });
      const after = stream.stats();
      const dropped = after.droppedTotal - before.droppedTotal;
      console.log(
        `fuzz: ${report.sent} sent (${report.invalid} refused by the page's own decoder), ` +
          `${after.receivedPackets - before.receivedPackets} received, ${dropped} dropped: ${JSON.stringify(after.dropped)}`,
      );
      // Every packet the codec refuses is dropped by the server, and no check ever blew up.
      const deliveredShare = (after.receivedPackets - before.receivedPackets) / expected;
      expect(dropped).toBeGreaterThanOrEqual(Math.floor(deliveredShare * report.invalid));
      expect(report.invalid).toBeGreaterThan(0.7 * FUZZ_COUNT);
      expect(after.dropped.internal ?? 0).toBe(0);
      for (const reason of ['not_binary', 'truncated', 'oversized', 'bad_version', 'bad_basis']) {
        expect(after.dropped[reason] ?? 0, reason).toBeGreaterThan(0);
      }

      // The server is up, the same stream is open, and the page's real motion still plays out.
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect(stream.closed).toBe(false);
      expect(server.motion.stream(roomId, joined.peerId)).toBe(stream);
      await expectFlowing(() => stream.stats(), 30);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/avatar_motion_packets_dropped_total\{[^}]*reason="bad_version"\} [1-9]/);
    });
  });

  describe('a flood at the default rate limit', () => {
    let server: AvatarServer;
    let peer: BrowserPeer | undefined;

    beforeAll(async () => {
      // Avatar mode is refused where no identity is granted: grant the demo identity in every room.
      server = await startTestServer({ avatar: { roomGrants: { '*': ['demo'] } } });
    });

    afterAll(async () => {
      await peer?.close();
      await server?.close();
    });

    it('is cut to the token bucket and the stream recovers', async () => {
      const joined = await joinInAvatarMode(browser, server, 'e2e-motion-flood');
      peer = joined.peer;
      const { stream } = joined;
      const before = stream.stats();
      const sent = await peer.page.evaluate(() => window.__avatar!.flood(3000));
      expect(sent).toBe(3000);
      await waitFor(() => stream.stats().receivedPackets - before.receivedPackets >= 0.95 * 3000, {
        timeoutMs: 30_000,
        message: 'the flood did not reach the server',
      });
      const after = stream.stats();
      const limited = (after.dropped.rate_limited ?? 0) - (before.dropped.rate_limited ?? 0);
      console.log(`flood: 3000 sent, ${limited} rate-limited, dropped ${JSON.stringify(after.dropped)}`);
      expect(limited).toBeGreaterThan(2000);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      await expectFlowing(() => stream.stats(), 30);
    });
  });
});
