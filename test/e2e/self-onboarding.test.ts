/**
 * "Create my avatar" in real Chromium: the fake camera plays d10.mp4; the page records 10 s with
 * guidance, the person consents, the clip is uploaded (MediaRecorder WebM, no duration in its
 * header), checked (one face) and trained by the real CLI (`--steps 20 --preset fast`), the page
 * shows the progress live and then a rejoin link whose token names the new identity.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import { studentCliMissing, testPythonConfig } from '../../server/src/testing/studentCli';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

describe.skipIf(studentCliMissing)('self-onboarding from the call page in real Chromium', () => {
  let server: AvatarServer;
  let browser: Browser;
  let dataDir: string;
  let peer: BrowserPeer | undefined;

  beforeAll(async () => {
    const fakeVideo = await clipToY4m({ clip: 'd10.mp4', width: 640, height: 480, fps: 25, seconds: 12 });
    dataDir = await mkdtemp(join(tmpdir(), 'self-e2e-'));
    server = await startTestServer({ onboarding: { dataDir, jobConcurrency: 1, python: testPythonConfig() } });
    browser = await launchChromium({ fakeVideo });
  });
  afterAll(async () => {
    await peer?.close();
    await browser?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('records 10 s with guidance, uploads with the person\'s consent, shows progress, and hands back a link that grants the new avatar', async () => {
    peer = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: 'selfie', displayName: 'Sam' });
    const page = peer.page;
    await page.evaluate(() => {
      window.__selfOnboarding!.recordSeconds = 10;
    });
    await page.click('[data-testid=create-avatar]');
    await page.click('[data-testid=self-record]');
    const prompts = new Set<string>();
    await waitFor(
      async () => {
        const p = await page.textContent('[data-testid=self-prompt]').catch(() => null);
        if (p) prompts.add(p);
        return page.$('[data-testid=self-agreed]');
      },
      { timeoutMs: 30_000, intervalMs: 300, message: 'recording did not finish' },
    );
    expect(prompts.size).toBeGreaterThanOrEqual(3);
    await page.check('[data-testid=self-agreed]');
    await page.click('[data-testid=self-submit]');

    const seen: number[] = [];
    const link = await waitFor(
      async () => {
        const error = await page.$('[data-testid=self-error]');
        if (error) throw new Error(`refused: ${await error.textContent()}`);
        const v = await page.$eval('[data-testid=self-progress]', (p) => (p as HTMLProgressElement).value).catch(() => undefined);
        if (v !== undefined && seen.at(-1) !== v) seen.push(v);
        const a = await page.$('[data-testid=self-link]');
        return a ? a.getAttribute('href') : null;
      },
      { timeoutMs: 400_000, intervalMs: 300, message: 'self-onboarding did not finish' },
    );
    expect(seen.length).toBeGreaterThan(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await page.textContent('[data-testid=self-percent]')).toBe('100%');
    expect(link).toMatch(/\/room\/selfie\?token=/);

    const [identity] = server.onboarding.registry.listIdentities();
    const detail = server.onboarding.registry.getIdentity(identity!.id);
    expect(detail.consent).toMatchObject({ subjectName: 'Sam', uploadedBy: 'Sam', method: 'self' });
    expect(detail.source).toMatchObject({ kind: 'clip', mime: 'video/webm' });
    expect(detail.source.durationS).toBeGreaterThan(8);
    expect(detail.grants).toMatchObject([{ roomId: 'selfie', participant: 'Sam' }]);
    const token = new URL(link as string).searchParams.get('token') as string;
    const grant = await server.onboarding.joinTokens.verify(token, 'selfie');
    expect(grant.identities).toEqual([identity!.id]);
    const version = detail.versionList[0]!;
    // Published automatically when it passed its gates; otherwise it waits for an operator.
    expect(detail.publishedVersion).toBe(version.gates.passed ? 1 : null);
    if (version.gates.passed) {
      const resolved = await server.onboarding.access.resolve({ roomId: 'selfie', peerId: 'p', displayName: 'Sam', tokenIdentities: grant.identities }, identity!.id);
      expect(resolved.version).toBe(1);
    }
  }, 600_000);
});
