/**
 * Avatar mode switched off while its avatar is still starting (a quick double click on the
 * toolbar button): the server cancels the start, which is what the user asked for, so the page
 * shows no refusal and logs no error; the camera comes back, and avatar mode starts again cleanly.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

describe('avatar mode switched off while the avatar starts', () => {
  let server: AvatarServer;
  let browser: Browser;
  let peer: BrowserPeer;

  beforeAll(async () => {
    const fakeVideo = await clipToY4m({ clip: 'd10.mp4', width: 640, height: 480, fps: 25, seconds: 12 });
    server = await startTestServer({ avatar: { roomGrants: { '*': ['demo'] } } });
    browser = await launchChromium({ fakeVideo });
    peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: 'e2e-avatar-toggle', displayName: 'Ava', quality: 'medium' });
  });

  afterAll(async () => {
    await peer?.close();
    await browser?.close();
    await server?.close();
  });

  it('shows no refusal and logs no error for the start it cancelled', async () => {
    // Off as soon as the uplink is on (the button is enabled again then): the page's startAvatar
    // is still on its way. In the page, so no round trip to the test delays the second click.
    await peer.page.evaluate(async () => {
      const button = document.querySelector<HTMLButtonElement>('#toggle-avatar')!;
      button.click();
      while (window.__avatar?.state !== 'on') await new Promise((resolve) => setTimeout(resolve, 1));
      button.click();
    });
    await peer.page.waitForFunction(() => window.__avatar?.state === 'off', undefined, { timeout: 30_000 });
    expect(peer.problems.filter((p) => !p.includes('TensorFlow Lite'))).toEqual([]);
    expect(await peer.page.evaluate(() => window.__call?.session?.producer('camera') ? 'camera' : null)).toBe('camera');

    // And on again: the avatar renders.
    await peer.page.click('#toggle-avatar');
    await waitFor(async () => ['calibrating', 'live'].includes((await peer.page.evaluate(() => window.__avatar?.avatarState()?.state)) ?? ''), {
      timeoutMs: 60_000,
      message: 'the avatar did not start again',
    });
    expect(await peer.page.evaluate(() => document.querySelector('.avatar-render')?.textContent ?? '')).not.toMatch(/cancelled/);
    expect(peer.problems.filter((p) => !p.includes('TensorFlow Lite'))).toEqual([]);
  }, 120_000);
});
