/**
 * Avatar mode against two things a real client does, in real Chromium with one server and browser:
 *
 * - A camera Chromium resizes: `?quality=low` asks a 640x480 camera for 320x240, so the track's
 *   frames are scaled (`resizeMode: 'crop-and-scale'`, as for any camera asked for a size it does
 *   not capture natively). MediaPipe handed such a <video> found no face in 89 of 90 frames (the
 *   avatar idled forever); the tracker must find the face whatever the capture size.
 * - Avatar mode switched off while its avatar is still starting (a quick double click on the
 *   toolbar button): the server cancels the start, which is what the user asked for, so the page
 *   shows no refusal and logs no error; the camera comes back, and avatar mode starts again cleanly.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

describe('avatar mode from a real client', () => {
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

  it('tracks the face of a 640x480 camera captured at ?quality=low', async () => {
    const peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: 'e2e-scaled-low', displayName: 'Ava', quality: 'low' });
    try {
      const settings = await peer.page.evaluate(() => window.__call?.session?.producer('camera')?.track?.getSettings() ?? null);
      expect((settings as { resizeMode?: string } | null)?.resizeMode).toBe('crop-and-scale');
      await peer.page.click('#toggle-avatar');
      await peer.page.waitForFunction(() => window.__avatar?.state === 'on', undefined, { timeout: 60_000 });
      const counters = await waitFor(async () => {
        const c = await peer.page.evaluate(() => window.__avatar?.counters() ?? null);
        return c && c.frames >= 40 ? c : undefined;
      }, { timeoutMs: 60_000, message: `the uplink saw no frames; problems: ${peer.problems.join(' | ')}` });
      console.log(`quality=low ${settings?.width}x${settings?.height}: ${JSON.stringify(counters)}`);
      // The clip shows one face in every frame.
      expect(counters.tracked).toBeGreaterThanOrEqual(0.9 * counters.frames);
      expect(counters.sent).toBeGreaterThan(0);
    } finally {
      await peer.close();
    }
  }, 120_000);

  it('shows no refusal and logs no error for a start it cancelled, and starts again', async () => {
    const peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: 'e2e-avatar-toggle', displayName: 'Ava', quality: 'medium' });
    // TensorFlow Lite's own start-up line on the console is not a problem of the page.
    const problems = (): string[] => peer.problems.filter((p) => !p.includes('TensorFlow Lite'));
    try {
      // Off as soon as the uplink is on (the button is enabled again then): the page's startAvatar
      // is still on its way. In the page, so no round trip to the test delays the second click.
      await peer.page.evaluate(async () => {
        const button = document.querySelector<HTMLButtonElement>('#toggle-avatar')!;
        button.click();
        while (window.__avatar?.state !== 'on') await new Promise((resolve) => setTimeout(resolve, 1));
        button.click();
      });
      await peer.page.waitForFunction(() => window.__avatar?.state === 'off', undefined, { timeout: 30_000 });
      expect(problems()).toEqual([]);
      expect(await peer.page.evaluate(() => window.__call?.session?.producer('camera') ? 'camera' : null)).toBe('camera');

      // And on again: the avatar renders.
      await peer.page.click('#toggle-avatar');
      await waitFor(async () => ['calibrating', 'live'].includes((await peer.page.evaluate(() => window.__avatar?.avatarState()?.state)) ?? ''), {
        timeoutMs: 60_000,
        message: 'the avatar did not start again',
      });
      expect(await peer.page.evaluate(() => document.querySelector('.avatar-render')?.textContent ?? '')).not.toMatch(/cancelled/);
      expect(problems()).toEqual([]);
    } finally {
      await peer.close();
    }
  }, 120_000);
});
