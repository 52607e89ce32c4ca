/**
 * Avatar mode with a camera Chromium resizes: `?quality=low` asks a 640x480 camera for 320x240,
 * so the track's frames are scaled (`resizeMode: 'crop-and-scale'`, as for any camera asked for
 * a size it does not capture natively). MediaPipe handed such a <video> found no face in 89 of 90
 * frames (the avatar idled forever); the tracker must find the face whatever the capture size.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { MediaQuality } from '../../client/src/media/mediaQuality';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

describe('avatar mode with a cropped and scaled camera track', () => {
  let server: AvatarServer;
  let browser: Browser;

  beforeAll(async () => {
    const fakeVideo = await clipToY4m({ clip: 'd10.mp4', width: 640, height: 480, fps: 25, seconds: 12 });
    server = await startTestServer({ avatar: { roomGrants: { '*': ['demo'] } } });
    browser = await launchChromium({ fakeVideo });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const quality of ['low'] as const satisfies readonly MediaQuality[]) {
    it(`tracks the face of a 640x480 camera captured at ?quality=${quality}`, async () => {
      const peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: `e2e-scaled-${quality}`, displayName: 'Ava', quality });
      try {
        const settings = await peer.page.evaluate(() => window.__call?.session?.producer('camera')?.track?.getSettings() ?? null);
        expect((settings as { resizeMode?: string } | null)?.resizeMode).toBe('crop-and-scale');
        await peer.page.click('#toggle-avatar');
        await peer.page.waitForFunction(() => window.__avatar?.state === 'on', undefined, { timeout: 60_000 });
        const counters = await waitFor(async () => {
          const c = await peer.page.evaluate(() => window.__avatar?.counters() ?? null);
          return c && c.frames >= 40 ? c : undefined;
        }, { timeoutMs: 60_000, message: `the uplink saw no frames; problems: ${peer.problems.join(' | ')}` });
        console.log(`quality=${quality} ${settings?.width}x${settings?.height}: ${JSON.stringify(counters)}`);
        // The clip shows one face in every frame.
        expect(counters.tracked).toBeGreaterThanOrEqual(0.9 * counters.frames);
        expect(counters.sent).toBeGreaterThan(0);
      } finally {
        await peer.close();
      }
    }, 120_000);
  }
});
