/**
 * Audio-only avatar end to end: real server (mediasoup, the demo identity's ONNX student, ffmpeg
 * VP8, the shipped audio-to-mouth model), real headless Chromium. A's fake microphone plays 8 s
 * of a speech clip followed by 4 s of silence (looped by Chromium); A asks for its avatar driven
 * by audio (`startAvatar { identityId: 'demo', driver: 'audio' }`). B receives A's AI avatar like
 * any track, runs Face Landmarker on the decoded frames and records how A's voice plays.
 *
 * Printed as one JSON line {"mouth_envelope_corr","av_offset_ms","speech_to_mouth_p95_ms", ...}:
 * - mouth_envelope_corr: at B, the mouth opening seen on each presented avatar frame against the
 *   envelope of A's voice as B plays it (same clock, lag 0), over speech and silence;
 * - av_offset_ms: the lag (video minus audio, ms) maximising that correlation within ±500 ms;
 * - speech_to_mouth_p95_ms: the voice's arrival at the server → B's presentation of the frame
 *   whose mouth it drove (through the frame's RTP timestamp; A's own capture-to-server time,
 *   tens of ms on loopback, is not included).
 * Also: in the silent stretch the mouth stays closed and the eyes still blink.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { AvatarSession } from '../../server/src/avatar/AvatarSession';
import { testStudentDir } from '../../server/src/avatar/testStudent';
import type { EnvelopePoint, ViewedFrame } from '../../client/src/avatar/AvatarViewerProbe';
import { BrowserPeer } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { startTestServer } from '../support/testServer';
import { pearson, quantile } from '../support/stats';
import { waitFor } from '../support/waitFor';

const roomId = 'e2e-avatar-audio';
const SPEECH = resolve(import.meta.dirname, '../../../shared/media/speech/RD_Radio2_000.mp4');

/** Envelope of B's playout averaged over ±60 ms around `t` (epoch ms). */
function envelopeAt(points: EnvelopePoint[], t: number): number {
  const w = points.filter((p) => Math.abs(p.atMs - t) <= 60);
  return w.length ? w.reduce((s, p) => s + p.rms, 0) / w.length : 0;
}

describe('audio-only avatar: microphone → audio-to-mouth → student → VP8 → SFU → a viewer', () => {
  let server: AvatarServer;
  let browser: Browser;
  let alice: BrowserPeer;
  let bob: BrowserPeer;
  let aliceId: string;
  let session: AvatarSession;
  const figures: Record<string, number | null> = {};

  beforeAll(async () => {
    const dir = join(import.meta.dirname, '../../.data/e2e');
    mkdirSync(dir, { recursive: true });
    const fakeAudio = join(dir, 'speech-then-silence-48k.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', SPEECH, '-vn', '-af', 'apad=pad_dur=4', '-t', '12', '-ac', '1', '-ar', '48000',
      '-c:a', 'pcm_s16le', fakeAudio]);
    server = await startTestServer({
      avatar: {
        identities: [{ identityId: 'demo', displayName: 'Demo identity', studentDir: testStudentDir() }],
        roomGrants: { [roomId]: ['demo'] },
      },
    });
    server.avatars.on('sessionopened', (s) => (session = s));
    browser = await launchChromium({ fakeAudio });
    alice = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ava', quality: 'low' });
    bob = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ben', quality: 'low' });
    aliceId = (await alice.peerId()) as string;
  }, 180_000);

  afterAll(async () => {
    console.log(JSON.stringify(figures));
    await alice?.close();
    await bob?.close();
    await browser?.close();
    await server?.close();
  });

  it("A's voice drives A's avatar: B sees the mouth follow the speech, closed in silence, blinking", async () => {
    const started = await alice.page.evaluate(() => window.__call!.session!.startAvatar('demo', 'audio'));
    expect(started.identityId).toBe('demo');
    const isAvatar = (s: { drivenByPeerId: string | null; kind: string }) => s.drivenByPeerId === aliceId && s.kind === 'video';
    await bob.expectRising(isAvatar, (s) => s.framesDecoded ?? 0, { what: "A's audio-driven avatar framesDecoded" });
    await bob.page.evaluate((id) => {
      window.__avatar?.recordAudio(id);
      return window.__avatar?.watchAvatar(id);
    }, aliceId);
    await new Promise((r) => setTimeout(r, 14_000)); // a whole loop: 8 s speech + 4 s silence, and some
    // The landmarker runs over the copied frames after the window (stopWatching), so it does not
    // compete with the pipeline it measures.
    const played = (await bob.page.evaluate(() => window.__avatar?.stopAudio())) as EnvelopePoint[];
    const { frames: viewed } = (await bob.page.evaluate(() => window.__avatar?.stopWatching())) as { frames: ViewedFrame[] };
    const seen = viewed.filter((f) => f.mouthOpen !== null);
    const mouth = seen.map((f) => f.mouthOpen!);
    const corrAt = (lagMs: number) => pearson(mouth, seen.map((f) => envelopeAt(played, f.presentedAtMs - lagMs)));
    figures.mouth_envelope_corr = Math.round(corrAt(0) * 1000) / 1000;
    let best = { lag: 0, corr: -Infinity };
    for (let lag = -500; lag <= 500; lag += 10) {
      const c = corrAt(lag);
      if (c > best.corr) best = { lag, corr: c };
    }
    figures.av_offset_ms = best.lag;
    figures.av_offset_corr = Math.round(best.corr * 1000) / 1000;

    // speech (server arrival) → presentation at B, through the frame log's RTP timestamps
    const log = new Map(session.recentFrames().map((f) => [f.rtpTimestamp, f]));
    const glass = viewed.flatMap((f) => {
      const sent = f.rtpTimestamp === null ? undefined : log.get(f.rtpTimestamp);
      return sent?.originCaptureTimeMs ? [f.presentedAtMs - sent.originCaptureTimeMs] : [];
    });
    figures.speech_to_mouth_p50_ms = glass.length ? Math.round(quantile(glass, 0.5)) : null;
    figures.speech_to_mouth_p95_ms = glass.length ? Math.round(quantile(glass, 0.95)) : null;

    // silence: B's playout is quiet; the mouth there stays near its closed value and the eyes blink
    const quiet = seen.filter((f) => envelopeAt(played, f.presentedAtMs) < 0.002 && envelopeAt(played, f.presentedAtMs - 600) < 0.002);
    const loud = seen.filter((f) => envelopeAt(played, f.presentedAtMs) > 0.01);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    figures.mouth_silence_mean = Math.round(mean(quiet.map((f) => f.mouthOpen!)) * 1000) / 1000;
    figures.mouth_speech_mean = Math.round(mean(loud.map((f) => f.mouthOpen!)) * 1000) / 1000;
    figures.blinks = session.stats().blinks;
    console.log(JSON.stringify(figures));
    figures.frames_with_face = seen.length;
    // B's landmarker runs on the frames it keeps up with (a few per second on the loaded machine)
    expect(seen.length).toBeGreaterThanOrEqual(15);
    expect(quiet.length).toBeGreaterThanOrEqual(3);
    expect(mean(quiet.map((f) => f.mouthOpen!))).toBeLessThan(mean(loud.map((f) => f.mouthOpen!)));
    const eyes = quiet.flatMap((f) => (f.eyeOpen === null ? [] : [f.eyeOpen]));
    expect(eyes.length).toBeGreaterThan(0);
    // the target is 0.5 (measured 0.46-0.61 with the envelope drive at load 6-10); the head
    // alone measured 0.19-0.28, so this guards the drive without failing on a loaded machine
    expect(figures.mouth_envelope_corr!).toBeGreaterThan(0.35);
  }, 120_000);
});
