/**
 * Launches the system Chromium headless with fake capture devices, for e2e tests.
 * playwright gives every launch a fresh temporary profile (it refuses `--user-data-dir` in
 * args), which is what the flags list below would otherwise ask for.
 */
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** The flags every headless Chromium here needs (no GPU, no network chatter, no first-run UI). */
export const headlessChromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const baseChromiumArgs = [
  ...headlessChromiumArgs,
  // Remote audio must play without a click in tests that join through the test hook.
  '--autoplay-policy=no-user-gesture-required',
  // Background tabs of a test browser must not be throttled (several peers share one browser).
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export interface LaunchOptions {
  /** y4m file for the fake camera (default: Chromium's generated pattern). */
  fakeVideo?: string;
  /** wav file for the fake microphone (default: Chromium's beep). */
  fakeAudio?: string;
  extraArgs?: string[];
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const args = [
    ...baseChromiumArgs,
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    ...(options.fakeVideo ? [`--use-file-for-fake-video-capture=${options.fakeVideo}`] : []),
    ...(options.fakeAudio ? [`--use-file-for-fake-audio-capture=${options.fakeAudio}`] : []),
    ...(options.extraArgs ?? []),
  ];
  return chromium.launch({ executablePath: chromiumPath, args, headless: true });
}
