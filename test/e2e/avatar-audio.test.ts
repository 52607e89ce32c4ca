/**
 * Audio-only avatar end to end: real server (mediasoup, the demo identity's ONNX student, ffmpeg
 * VP8, the shipped audio-to-mouth model), real headless Chromium. A joins through the join screen
 * with "Audio only, as avatar": only its fake microphone is published, and the page starts the
 * voice-driven avatar at once (`startAvatar { identityId: 'demo', driver: 'audio' }`). A's fake
 * microphone plays five 1.4 s bursts of a speech clip (RD_Radio2), each after 1.6 s of digital
 * silence (16 s, looped by Chromium). B receives A's AI avatar like any track.
 *
 * Lip sync at B is measured on one clock (this machine's epoch ms: the server's and B's
 * performance clocks, both pages and the server on one host), split where the two paths part, at
 * the server, so that what the model does with each word does not blur it:
 * - video path: for every avatar frame B presented (requestVideoFrameCallback presentationTime;
 *   frames copied during the window, Face Landmarker run afterwards), its RTP timestamp → the
 *   server's frame log → the arrival at the server of the voice that drove that mouth (the packet
 *   carrying the model frame's centre sample); video_path_ms = median(presented − voice arrival);
 * - audio path: the same voice at the server (a second AudioTap on A's microphone: packet arrival
 *   and loudness) and as B hears it (an AudioWorklet on B's received track, blocks timed by the
 *   AudioContext's output timestamps: AudioPlayoutRecorder); each speech-burst onset (the rise
 *   10 % of the way from silence to speech after ≥ 800 ms quiet) found in both, audio_path_ms =
 *   median(heard at B − arrived at the server) over the bursts — the same waveform on both sides;
 * - av_offset_ms = video_path_ms − audio_path_ms: positive, the voice leads the mouth it drove.
 * A cross-check by onsets alone, as a viewer would judge it: the mouth opening onsets B's landmarker
 * sees against the voice onsets B hears (av_offset_mouth_onsets_ms, median over bursts; its per-burst
 * spread is the VAD's and the model's own timing of each burst's first syllable, ±150 ms).
 * The same measurement runs a second time with lip sync off (the server stops sending avatarSync,
 * B drops its jitter buffer target): the baseline the applied sync is compared with.
 *
 * Printed as one JSON line {"mouth_envelope_corr","av_offset_ms","speech_to_mouth_p95_ms", ...}:
 * - mouth_envelope_corr: the mouth opening on each presented frame against the envelope of A's
 *   voice as B hears it (±60 ms around the frame, lag 0), over speech and silence;
 * - av_offset_ms (target within ±40 ms), with video_path_ms, audio_path_ms, audio_path_bursts,
 *   av_offset_unsynced_ms (the baseline) and the onset cross-check av_offset_mouth_onsets_ms;
 * - speech_to_mouth_p50/p95_ms: the voice's arrival at the server → B's presentation of the frame
 *   whose mouth it drove (through the frame's RTP timestamp; A's own capture-to-server time, tens
 *   of ms on loopback, is not included);
 * - listener_audio_delay_ms: the voice delay the server told B (avatarSync), and
 *   listener_jitter_buffer_ms: the mean delay B's audio jitter buffer actually held over the window.
 * Also: A's page shows the audio-to-lip and A/V sync figures in its panel; both tiles carry the
 * "AI avatar" label; in silence the mouth stays closed and the eyes still blink; a participant with
 * no identity granted gets a clear refusal and stays in the call with the voice; one whose browser
 * refuses the microphone is told so on the join screen.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { AvatarSession, SentFrameRecord } from '../../server/src/avatar/AvatarSession';
import { testStudentDir } from '../../server/src/avatar/testStudent';
import type { ViewedFrame } from '../../client/src/avatar/AvatarViewerProbe';
import type { PlayoutBlock } from '../../client/src/avatar/AudioPlayoutRecorder';
import { BrowserPeer, showsAvatarOf } from '../support/BrowserPeer';
import { baseChromiumArgs, chromiumPath, launchChromium } from '../support/chromium';
import { onsets, pairedLags, type TimedValue } from '../support/onsets';
import { AudioTap } from '../../server/src/audio/AudioTap';
import { startTestServer } from '../support/testServer';
import { pearson, quantile } from '../support/stats';
import { waitFor } from '../support/waitFor';

const roomId = 'e2e-avatar-audio';
const SPEECH = resolve(import.meta.dirname, '../../../shared/media/speech/RD_Radio2_000.mp4');
/** Speech bursts cut from the clip (s), each faded in over 5 ms so its onset is sharp. */
const BURSTS: [number, number][] = [[0.1, 1.5], [1.9, 3.3], [3.4, 4.8], [5.0, 6.4], [6.5, 7.9]];
const LEAD_S = 1.0;
const GAP_S = 1.6;
/** One loop of the fake microphone, and each measurement window (a loop and a bit). */
const LOOP_MS = (LEAD_S + BURSTS.length * 1.4 + (BURSTS.length - 1) * GAP_S + GAP_S) * 1000;
const WINDOW_MS = LOOP_MS + 1500;
/**
 * Floor on |av_offset_ms| (target ±40, printed): proves the audio path's own lip sync is applied.
 * Without sync the voice leads the mouth by the avatar's delay behind it (look-ahead, hop, render,
 * encode, less B's own audio buffering: the unsynced baseline of the same run, +170 ms or more); with
 * the camera path's extra (+100 ms, for face tracking that a voice avatar does not have) the voice
 * would trail by ~100 ms. Within ±100 ms neither happened, with room for a shared 2-core machine
 * where the server's delay estimate (a 1 s median) and B's presentation jitter by tens of ms.
 */
const AV_OFFSET_FLOOR_MS = 100;

/** Envelope of B's playout averaged over ±60 ms around `t` (epoch ms). */
function envelopeAt(blocks: PlayoutBlock[], t: number): number {
  const w = blocks.filter((b) => Math.abs(b.heardAtMs - t) <= 60);
  return w.length ? w.reduce((s, b) => s + b.rms, 0) / w.length : 0;
}

/**
 * Blinks B's landmarker saw: the eyes under 0.7 × their median openness, dips ≥ 200 ms apart. Why
 * 0.7 and not ½: the student never shuts the eyes fully — B's landmarker sees a rendered blink at
 * 0.52–0.76 of the open eye (the live e2e's idle window), so ½ caught 1 of ~10 rendered blinks and
 * sometimes none; the head sway moves the openness by ≤ ±8 %, well above 0.7.
 */
function blinksSeen(frames: ViewedFrame[]): number {
  const eyes = frames.filter((f) => f.eyeOpen !== null).sort((a, b) => a.presentedAtMs - b.presentedAtMs);
  if (eyes.length === 0) return 0;
  const open = quantile(eyes.map((f) => f.eyeOpen!), 0.5);
  let count = 0;
  let lastShutAt = -Infinity;
  let shut = false;
  for (const f of eyes) {
    const now = f.eyeOpen! < 0.7 * open;
    if (now && !shut && f.presentedAtMs - lastShutAt >= 200) count += 1;
    if (now) lastShutAt = f.presentedAtMs;
    shut = now;
  }
  return count;
}

/** One measurement window: B's presented frames and playout, the server's frame log and voice arrivals. */
type Window = { frames: ViewedFrame[]; blocks: PlayoutBlock[]; jitterBufferMs: number | null; log: SentFrameRecord[]; arrivals: TimedValue[] };

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : null);

/** The onset lags of one window: mouth onsets on B's frames against voice onsets in B's playout. */
function onsetLags(frames: ViewedFrame[], blocks: PlayoutBlock[]): { lags: number[]; audioOnsets: number; mouthOnsets: number } {
  const audio = onsets(blocks.map((b) => ({ t: b.heardAtMs, v: b.rms })), { fraction: 0.1, minQuietMs: 800, restQuantile: 0.1 });
  const seen = frames.filter((f) => f.mouthOpen !== null);
  const mouth = onsets(seen.map((f) => ({ t: f.presentedAtMs, v: f.mouthOpen! })), { fraction: 0.25, minQuietMs: 600, restQuantile: 0.2 });
  return { lags: pairedLags(audio, mouth, -700, 900), audioOnsets: audio.length, mouthOnsets: mouth.length };
}

describe('audio-only avatar: join screen → microphone → audio-to-mouth → student → VP8 → SFU → a viewer', () => {
  let server: AvatarServer;
  let browser: Browser;
  let alice: BrowserPeer;
  let bob: BrowserPeer;
  let aliceId: string;
  let session: AvatarSession;
  const figures: Record<string, number | null | number[]> = {};

  beforeAll(async () => {
    const dir = join(import.meta.dirname, '../../.data/e2e');
    mkdirSync(dir, { recursive: true });
    const fakeAudio = join(dir, 'speech-bursts-48k.wav');
    const cuts = BURSTS.map(([from, to], i) =>
      `[s${i}]atrim=start=${from}:end=${to},asetpts=PTS-STARTPTS,afade=t=in:d=0.005,afade=t=out:st=${(to - from - 0.02).toFixed(3)}:d=0.02,apad=pad_dur=${GAP_S}[b${i}]`);
    const graph = [
      `[0:a]aformat=sample_rates=48000:channel_layouts=mono,asplit=${BURSTS.length}${BURSTS.map((_, i) => `[s${i}]`).join('')}`,
      ...cuts,
      `anullsrc=r=48000:cl=mono,atrim=duration=${LEAD_S}[lead]`,
      `[lead]${BURSTS.map((_, i) => `[b${i}]`).join('')}concat=n=${BURSTS.length + 1}:v=0:a=1[out]`,
    ].join(';');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', SPEECH, '-filter_complex', graph, '-map', '[out]', '-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', fakeAudio]);
    server = await startTestServer({
      avatar: {
        identities: [{ identityId: 'demo', displayName: 'Demo identity', studentDir: testStudentDir() }],
        roomGrants: { [roomId]: ['demo'] },
      },
    });
    server.avatars.on('sessionopened', (s) => (session = s));
    browser = await launchChromium({ fakeAudio });
    bob = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ben', quality: 'low' });
    alice = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ava', quality: 'low', mode: 'audio-avatar', recordLocalTileStates: true });
    aliceId = (await alice.peerId()) as string;
  }, 180_000);

  afterAll(async () => {
    console.log(JSON.stringify(figures));
    await alice?.close();
    await bob?.close();
    await browser?.close();
    await server?.close();
  });

  it('joining "audio only, as avatar" publishes the microphone only and starts the voice avatar at once, labelled on every tile, with its figures in the panel', async () => {
    await waitFor(async () => ((await alice.page.evaluate(() => window.__avatar?.voice()?.state)) === 'on' ? true : undefined), {
      timeoutMs: 60_000,
      message: `A's voice avatar never started; problems: ${alice.problems.join(' | ')}`,
    });
    const published = await alice.page.evaluate(() => ({ mic: Boolean(window.__call!.session!.producer('mic')), camera: Boolean(window.__call!.session!.producer('camera')) }));
    expect(published).toEqual({ mic: true, camera: false });
    expect(await alice.page.evaluate(() => window.__avatar?.voice()?.identityId)).toBe('demo');
    const isAvatar = (s: { drivenByPeerId: string | null; kind: string }) => s.drivenByPeerId === aliceId && s.kind === 'video';
    await bob.expectRising(isAvatar, (s) => s.framesDecoded ?? 0, { what: "A's audio-driven avatar framesDecoded" });
    // A sees its own avatar as others do, in its own tile ("starting avatar…" until then, never
    // "no camera or mic"); B sees it inside A's one tile, with A's voice; both tiles say "AI avatar".
    const bobId = (await bob.peerId()) as string;
    const seenByAlice = await alice.waitForTiles((tiles) => tiles.some((t) => t.local && showsAvatarOf(t, aliceId) && t.state === 'live'),
      'its own avatar live in its own tile');
    expect(seenByAlice.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    expect(seenByAlice.find((t) => t.local)).toMatchObject({ name: 'Ava (you)', ownAvatar: true, note: 'as others see you', camera: null, audio: null });
    const localStates = await alice.localTileStates();
    expect(localStates).toContain('starting avatar…');
    expect(localStates).not.toContain('no camera or mic');
    const seenByBob = await bob.waitForTiles((tiles) => tiles.some((t) => t.peerId === aliceId && showsAvatarOf(t, aliceId) && t.state === 'live'),
      "A's avatar live in A's tile");
    expect(seenByBob.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    expect(seenByBob.find((t) => t.peerId === aliceId)).toMatchObject({ name: 'Ava', kind: 'human', audio: { peerId: aliceId, source: 'mic' } });
    const panel = await waitFor(async () => {
      const p = await alice.page.evaluate(() => window.__avatar?.voice()?.panel);
      return p && /audio→lip \d+ ms/.test(p.stats) && /A\/V sync: listeners delay your voice \d+ ms/.test(p.stats) ? p : undefined;
    }, { timeoutMs: 30_000, message: "A's panel never showed the audio-to-lip and A/V sync figures" });
    expect(panel.state).toMatch(/Avatar live/);
  }, 120_000);

  it('lip sync at B (voice arrival → frame presented vs → voice heard, split at the server; the baseline without sync in the same run); closed in silence, blinking', async () => {
    // the voice delay B applies must be settled: told, then a few seconds for its jitter buffer to grow
    await waitFor(() => (server.avatars.stats(session).avSync?.audioDelayMs ? true : undefined), { timeoutMs: 20_000, message: 'no avatarSync sent' });
    await new Promise((r) => setTimeout(r, 4000));
    figures.load_avg = round(loadavg()[0]!, 1);
    const window1 = await measureWindow();
    figures.listener_audio_delay_ms = server.avatars.stats(session).avSync?.audioDelayMs ?? null;
    figures.listener_jitter_buffer_ms = window1.jitterBufferMs;
    const { frames: viewed, blocks: played } = window1;
    const seen = viewed.filter((f) => f.mouthOpen !== null);
    const mouth = seen.map((f) => f.mouthOpen!);
    figures.mouth_envelope_corr = round(pearson(mouth, seen.map((f) => envelopeAt(played, f.presentedAtMs))), 3);
    const paths = syncPaths(window1);
    Object.assign(figures, {
      av_offset_ms: paths.offsetMs, video_path_ms: paths.videoMs, audio_path_ms: paths.audioMs,
      audio_path_bursts: paths.audioLags.length, audio_path_each_ms: paths.audioLags.map((l) => round(l)),
    });
    const synced = onsetLags(viewed, played);
    figures.av_offset_mouth_onsets_ms = median(synced.lags) === null ? null : round(median(synced.lags)!);
    figures.av_offset_mouth_onsets_each_ms = synced.lags.map((l) => round(l));
    // diagnostics: the same onsets on the mouth the server rendered into each presented frame
    // (through its RTP timestamp: no landmarker noise), and the spacing of the voice onsets B heard
    // (3000 ms apart if B's playout delay held still)
    const rendered = framelogOnsetLags(viewed, played, window1.log);
    figures.av_offset_framelog_ms = median(rendered) === null ? null : round(median(rendered)!);
    figures.av_offset_framelog_each_ms = rendered.map((l) => round(l));
    const heard = onsets(played.map((b) => ({ t: b.heardAtMs, v: b.rms })), { fraction: 0.1, minQuietMs: 800, restQuantile: 0.1 });
    figures.audio_onset_spacing_ms = heard.slice(1).map((t, i) => round(t - heard[i]!));

    // speech (server arrival) → presentation at B, through the frame log's RTP timestamps
    const log = new Map(window1.log.map((f) => [f.rtpTimestamp, f]));
    const glass = viewed.flatMap((f) => {
      const sent = f.rtpTimestamp === null ? undefined : log.get(f.rtpTimestamp);
      return sent?.originCaptureTimeMs ? [f.presentedAtMs - sent.originCaptureTimeMs] : [];
    });
    figures.speech_to_mouth_p50_ms = glass.length ? round(quantile(glass, 0.5)) : null;
    figures.speech_to_mouth_p95_ms = glass.length ? round(quantile(glass, 0.95)) : null;

    // silence: B hears nothing; the mouth there stays near its closed value and the eyes blink
    const quiet = seen.filter((f) => envelopeAt(played, f.presentedAtMs) < 0.002 && envelopeAt(played, f.presentedAtMs - 600) < 0.002);
    const loud = seen.filter((f) => envelopeAt(played, f.presentedAtMs) > 0.01);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    figures.mouth_silence_mean = round(mean(quiet.map((f) => f.mouthOpen!)), 3);
    figures.mouth_speech_mean = round(mean(loud.map((f) => f.mouthOpen!)), 3);
    // the voice avatar's own listening motion blinks (the session's idle blinks are for a lost driver)
    figures.blinks_seen = blinksSeen(seen);
    figures.blinks = server.avatars.stats(session).blinks;
    figures.frames_with_face = seen.length;

    // the baseline: lip sync off (no more avatarSync; B's voice back to its own jitter buffer)
    server.config.avatar.avSync = false;
    await bob.page.evaluate((id) => {
      for (const t of window.__call!.session!.tracks.values()) {
        if (t.peerId === id && t.kind === 'audio') (t.consumer.rtpReceiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = null;
      }
    }, aliceId);
    await new Promise((r) => setTimeout(r, 3000));
    const window2 = await measureWindow();
    server.config.avatar.avSync = true;
    const unsyncedPaths = syncPaths(window2);
    figures.av_offset_unsynced_ms = unsyncedPaths.offsetMs;
    figures.audio_path_unsynced_ms = unsyncedPaths.audioMs;
    const unsynced = onsetLags(window2.frames, window2.blocks);
    figures.av_offset_mouth_onsets_unsynced_ms = median(unsynced.lags) === null ? null : round(median(unsynced.lags)!);
    const renderedUnsynced = framelogOnsetLags(window2.frames, window2.blocks, window2.log);
    figures.av_offset_framelog_unsynced_ms = median(renderedUnsynced) === null ? null : round(median(renderedUnsynced)!);
    figures.listener_jitter_buffer_unsynced_ms = window2.jitterBufferMs;
    figures.av_offset_target_met = figures.av_offset_ms !== null && Math.abs(figures.av_offset_ms as number) <= 40 ? 1 : 0;
    console.log(JSON.stringify(figures));

    // B's landmarker runs on every copied frame after the window
    expect(seen.length).toBeGreaterThanOrEqual(50);
    expect(quiet.length).toBeGreaterThanOrEqual(3);
    expect(mean(quiet.map((f) => f.mouthOpen!))).toBeLessThan(mean(loud.map((f) => f.mouthOpen!)));
    const eyes = quiet.flatMap((f) => (f.eyeOpen === null ? [] : [f.eyeOpen]));
    expect(eyes.length).toBeGreaterThan(0);
    // ~17 blinks a minute by design: a 17.5 s window holds ~5, of which B's landmarker catches some
    // (a 240–390 ms blink spans 6–10 frames, fewer when B presents fewer)
    expect(figures.blinks_seen).toBeGreaterThanOrEqual(1);
    // the issue's target is 0.5: with the envelope drive 0.60-0.67 measured (the head alone 0.30-0.39),
    // so this guards the drive with some room for a loaded machine
    expect(figures.mouth_envelope_corr).toBeGreaterThan(0.45);
    // every burst of the window found on both sides of the audio path; hundreds of frames on the video path
    expect(paths.audioLags.length).toBeGreaterThanOrEqual(4);
    expect(unsyncedPaths.audioLags.length).toBeGreaterThanOrEqual(4);
    expect(paths.videoFrames).toBeGreaterThanOrEqual(100);
    // sync applied (see AV_OFFSET_FLOOR_MS), and the voice held back by most of what it led by without it
    expect(Math.abs(paths.offsetMs!)).toBeLessThanOrEqual(AV_OFFSET_FLOOR_MS);
    expect(unsyncedPaths.offsetMs!).toBeGreaterThan(paths.offsetMs! + 100);
    // the viewer's cross-check paired most bursts (its figure is printed, not asserted: see the header)
    expect(synced.lags.length).toBeGreaterThanOrEqual(3);
  }, 150_000);

  it("turning the voice avatar off leaves A's one tile an audio-only tile with A's voice, without the label, on both pages", async () => {
    await alice.page.click('#toggle-voice-avatar');
    await waitFor(async () => ((await alice.page.evaluate(() => window.__avatar?.voice()?.state)) === 'off' ? true : undefined), {
      timeoutMs: 20_000,
      message: "A's voice avatar did not stop",
    });
    await bob.waitForTiles((tiles) => {
      const a = tiles.find((t) => t.peerId === aliceId);
      return tiles.length === 2 && a !== undefined && a.avatar === null && a.synthetic === null && !a.aiLabelVisible && a.state === 'audio only' &&
        a.audio?.source === 'mic';
    }, "A's tile back to audio only", 20_000);
    await alice.waitForTiles((tiles) => {
      const me = tiles.find((t) => t.local);
      return tiles.length === 2 && me !== undefined && me.avatar === null && !me.ownAvatar && !me.aiLabelVisible && me.state === 'audio only';
    }, 'its own tile back to audio only', 20_000);
  }, 60_000);

  it('a participant with no identity granted is told so on the page and stays in the call with the voice', async () => {
    const carol = await BrowserPeer.join(browser, { serverUrl: server.url, roomId: 'e2e-avatar-audio-ungranted', displayName: 'Cy', quality: 'low', mode: 'audio-avatar' });
    try {
      const voice = await waitFor(async () => {
        const v = await carol.page.evaluate(() => window.__avatar?.voice());
        return v?.state === 'refused' ? v : undefined;
      }, { timeoutMs: 20_000, message: "C's voice avatar was never refused" });
      expect(voice.panel.state).toMatch(/Avatar unavailable: no avatar identity is granted to you in this room/);
      // Its own tile is a plain audio-only tile: name, initials, the mic state; no avatar, no "no camera or mic".
      const [own] = await carol.waitForTiles((tiles) => tiles[0]?.local === true && tiles[0].state === 'audio only', 'an audio-only tile of its own');
      expect(own).toMatchObject({ name: 'Cy (you)', avatar: null, aiLabelVisible: false, camera: null });
      expect(await carol.page.getAttribute('.tile[data-local]', 'data-mic')).toBe('on');
      expect(await carol.page.textContent('.tile[data-local] .tile-initials')).toBe('C');
      await carol.page.click('#toggle-mic');
      await carol.waitForTiles((tiles) => tiles[0]?.state === 'muted', 'its tile saying the mic is muted');
      expect(await carol.state()).toBe('in-call');
      expect(await carol.page.evaluate(() => Boolean(window.__call!.session!.producer('mic')))).toBe(true);
    } finally {
      await carol.close();
    }
  }, 60_000);

  it('without microphone permission, joining "audio only, as avatar" is refused on the join screen in words', async () => {
    // a browser that asks (no auto-accepting fake UI): playwright's context grants nothing, so the page is denied
    const asking = await chromium.launch({ executablePath: chromiumPath, args: [...baseChromiumArgs, '--use-fake-device-for-media-stream'], headless: true });
    try {
      const page = await (await asking.newContext()).newPage();
      await page.goto(`${server.url}/room/${roomId}?quality=low`);
      await page.fill('#join-name', 'Dee');
      await page.check('#join-mode-audio-avatar');
      await page.click('#join-button');
      const message = await page.waitForSelector('.join-message', { timeout: 20_000 });
      expect(await message.textContent()).toMatch(/Could not join: "Audio only, as avatar" needs your microphone \(microphone: .*(denied|not allowed)/i);
      expect(await page.evaluate(() => window.__call?.state)).toBe('idle');
    } finally {
      await asking.close();
    }
  }, 60_000);

  /**
   * The two paths of one window (ms): voice arrival at the server → B presents the frame whose mouth
   * it drove (median over frames), and → B hears it (median over burst onsets); offset = video − audio.
   */
  function syncPaths(w: Window): { videoMs: number | null; audioMs: number | null; offsetMs: number | null; audioLags: number[]; videoFrames: number } {
    const log = new Map(w.log.map((f) => [f.rtpTimestamp, f]));
    const video = w.frames.flatMap((f) => {
      const sent = f.rtpTimestamp === null ? undefined : log.get(f.rtpTimestamp);
      return sent?.originCaptureTimeMs ? [f.presentedAtMs - sent.originCaptureTimeMs] : [];
    });
    const atServer = onsets(w.arrivals, { fraction: 0.1, minQuietMs: 800, restQuantile: 0.1 });
    const atB = onsets(w.blocks.map((b) => ({ t: b.heardAtMs, v: b.rms })), { fraction: 0.1, minQuietMs: 800, restQuantile: 0.1 });
    const audioLags = pairedLags(atServer, atB, 0, 1500);
    const videoMs = median(video);
    const audioMs = median(audioLags);
    return {
      videoMs: videoMs === null ? null : round(videoMs),
      audioMs: audioMs === null ? null : round(audioMs),
      offsetMs: videoMs === null || audioMs === null ? null : round(videoMs - audioMs),
      audioLags,
      videoFrames: video.length,
    };
  }

  /** Onset lags with the mouth the server rendered into each frame B presented (frame log, by RTP timestamp). */
  function framelogOnsetLags(frames: ViewedFrame[], blocks: PlayoutBlock[], sent: SentFrameRecord[]): number[] {
    const log = new Map(sent.map((f) => [f.rtpTimestamp, f.mouthOpen]));
    const series = frames.flatMap((f) => {
      const m = f.rtpTimestamp === null ? undefined : log.get(f.rtpTimestamp);
      return m === undefined ? [] : [{ t: f.presentedAtMs, v: m }];
    });
    const audio = onsets(blocks.map((b) => ({ t: b.heardAtMs, v: b.rms })), { fraction: 0.1, minQuietMs: 800, restQuantile: 0.1 });
    return pairedLags(audio, onsets(series, { fraction: 0.25, minQuietMs: 600, restQuantile: 0.2 }), -700, 900);
  }

  /** One measurement window at B: the avatar's frames and A's voice as B hears it, with the jitter buffer B held meanwhile. */
  async function measureWindow(): Promise<Window> {
    const jitter = () => bob.page.evaluate(async (id) => {
      const t = [...window.__call!.session!.tracks.values()].find((r) => r.peerId === id && r.kind === 'audio');
      if (!t) return null;
      for (const s of (await t.consumer.getStats()).values()) {
        if (s.type === 'inbound-rtp') return { delay: s.jitterBufferDelay as number, count: s.jitterBufferEmittedCount as number };
      }
      return null;
    }, aliceId);
    const before = await jitter();
    // A's voice as it reaches the server: a second tap on A's microphone (packet arrival, loudness)
    const room = server.rooms.get(roomId)!;
    const mic = [...room.peers.get(aliceId)!.producers.values()].find((p) => p.kind === 'audio' && p.appData.source === 'mic')!;
    const tap = await AudioTap.create(room.router, mic.id);
    const arrivals: TimedValue[] = [];
    tap.on('pcm', (chunk) => {
      if (chunk.kind !== 'decoded') return;
      let sum = 0;
      for (const x of chunk.samples) sum += x * x;
      arrivals.push({ t: performance.timeOrigin + chunk.arrivalMs, v: Math.sqrt(sum / chunk.samples.length) });
    });
    await bob.page.evaluate(async (id) => {
      await window.__avatar!.recordPlayout(id);
      await window.__avatar!.watchAvatar(id);
    }, aliceId);
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const blocks = (await bob.page.evaluate(() => window.__avatar!.stopPlayout())) as PlayoutBlock[];
    const after = await jitter();
    tap.close();
    // the server's frame log of the window (it keeps the last ~20 s; the landmarker below takes a while)
    const log = [...session.recentFrames()];
    // The landmarker runs over the copied frames after the window (stopWatching), so it does not
    // compete with the pipeline it measures.
    const { frames } = (await bob.page.evaluate(() => window.__avatar!.stopWatching())) as { frames: ViewedFrame[] };
    const jitterBufferMs = before && after && after.count > before.count ? round(((after.delay - before.delay) / (after.count - before.count)) * 1000) : null;
    return { frames, blocks, jitterBufferMs, log, arrivals };
  }
});
