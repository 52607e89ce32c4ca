/**
 * The admin flow in real Chromium against a real server and the real training CLI (a tiny real
 * training, `--steps 20 --preset fast`): sign in, upload s0.jpg through the form with its consent
 * record, watch the live progress bar reach 100% (pushed by SSE), publish, grant a room, make a
 * join link, and join the call with it: the peer's token names the identity and IdentityAccess
 * resolves the published student for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import { onboardingInputs } from '../../server/src/testing/onboardingInputs';
import { studentCliMissing, testPythonConfig } from '../../server/src/testing/studentCli';
import { launchChromium } from '../support/chromium';
import { startTestServer } from '../support/testServer';
import { waitFor } from '../support/waitFor';

const ADMIN = 'e2e-admin-token-0123456789abcdef';

describe.skipIf(studentCliMissing)('the admin pages in real Chromium', () => {
  let server: AvatarServer;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'admin-e2e-'));
    server = await startTestServer({ onboarding: { dataDir, adminToken: ADMIN, jobConcurrency: 1, python: testPythonConfig() } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uploads with consent, shows live progress to 100%, publishes, and the identity is usable in a call', async () => {
    const inputs = await onboardingInputs();
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${server.url}/admin`);
    await page.fill('[data-testid=admin-token]', 'wrong-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner')).toMatch(/not valid/);
    await page.fill('[data-testid=admin-token]', ADMIN);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=upload-form]');

    await page.setInputFiles('[data-testid=upload-file]', inputs.portrait);
    await page.fill('[data-testid=upload-name]', 'Sam Zero');
    await page.fill('[data-testid=consent-subject]', 'Sam Zero');
    await page.fill('[data-testid=consent-uploader]', 'Operator One');
    await page.check('[data-testid=consent-agreed]');
    await page.click('[data-testid=upload-submit]');
    await page.waitForSelector('[data-testid=identity-name]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid=consent]')).toMatch(/Operator One/);

    // Live progress: sample the bar while training runs; it only grows and ends at 100%.
    const seen: number[] = [];
    await waitFor(
      async () => {
        const value = await page.$eval('[data-testid=job-progress]', (p) => (p as HTMLProgressElement).value).catch(() => undefined);
        if (value !== undefined && seen.at(-1) !== value) seen.push(value);
        return (await page.$('[data-version="1"]')) !== null;
      },
      { timeoutMs: 300_000, intervalMs: 200, message: 'training did not finish in the page' },
    );
    expect(seen.length).toBeGreaterThan(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await page.textContent('[data-testid=job-percent]')).toBe('100%');
    expect(await page.textContent('[data-testid=job-state]')).toBe('succeeded');
    expect(await page.$$('[data-testid=gate-table] tbody tr')).not.toHaveLength(0);

    // Publish (with an override reason if this tiny training missed a gate).
    const override = await page.$('[data-testid=override-v1]');
    if (override) await override.fill('20-step test training; reviewed by the e2e test');
    await page.click('[data-testid=publish-v1]');
    await page.waitForSelector('.version.published');
    const identityId = new URL(page.url()).hash.split('/')[2] as string;
    expect(server.onboarding.registry.published(identityId)?.row.version).toBe(1);

    // Grant the room and make a join link; join the call with it.
    await page.fill('[data-testid=grant-room]', 'standup');
    await page.click('form.inline button:has-text("Grant")');
    await page.waitForSelector('.grants li');
    await page.fill('[data-testid=token-room]', 'standup');
    await page.fill('[data-testid=token-name]', 'Sam');
    await page.click('button:has-text("Make a join link")');
    const link = await (await page.waitForSelector('[data-testid=token-link] a')).getAttribute('href');
    expect(link).toMatch(/\/room\/standup\?token=/);

    const callPage = await context.newPage();
    await callPage.goto(`${link}&quality=low`);
    await callPage.fill('#join-name', 'Sam');
    await callPage.click('#join-button');
    await callPage.waitForFunction(() => window.__call?.state === 'in-call', undefined, { timeout: 30_000 });
    const peerId = (await callPage.evaluate(() => window.__call?.session?.peerId)) as string;
    const peer = server.rooms.get('standup')!.peers.get(peerId)!;
    const requester = server.onboarding.joinAuthorizer.requester('standup', peer);
    expect(requester.tokenIdentities).toEqual([identityId]);
    const resolved = await server.onboarding.access.resolve(requester, identityId);
    expect(resolved).toMatchObject({ identityId, version: 1 });
    expect(problems).toEqual([]);
    await context.close();
  }, 600_000);
});
