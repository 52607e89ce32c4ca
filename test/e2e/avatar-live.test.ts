/**
 * Live avatar end to end: real server (mediasoup worker, the demo identity's ONNX student in its
 * render worker, ffmpeg VP8), real headless Chromium. Peer A's fake camera plays a talking-head
 * clip (AVATAR_E2E_CLIP, default ../shared/media/d10.mp4, as 640x480@25 y4m) and its fake
 * microphone the same clip's sound; A turns avatar mode on. Peer B receives A's AI avatar like
 * any track. During each measurement window B only copies every decoded avatar frame (with its
 * RTP timestamp and presentation time); Face Landmarker runs on all of them after the window, so
 * the measurement does not take CPU from the pipeline it measures (on 2 cores, a live landmarker
 * in B's page kept up with ~6 frames in 10 s and starved the decoder and the audio).
 *
 * Measured and printed as one JSON line {"viewer_fps","mouth_corr","glass_p50_ms","glass_p95_ms",
 * "av_offset_ms", ...}:
 * - viewer_fps: B's framesDecoded rate of the avatar track over the 15 s measurement window
 *   (target ≥ 20; asserted ≥ VIEWER_FPS_FLOOR, see there);
 * - mouth_corr: Pearson correlation between the mouth opening B's landmarker sees on each received
 *   frame and the mouth opening of the motion A sent for it (A's own pre-encode landmarks, matched
 *   through the frame's RTP timestamp → the server's frame log → A's capture time) (target ≥ 0.8;
 *   asserted ≥ MOUTH_CORR_FLOOR = 0.8 over ≥ 30 frames); mouth_corr_retargeted: the same A side
 *   against the server's retargeted landmarks rendered for that frame (diagnostic, where the
 *   correlation goes); AVATAR_E2E_DUMP=<file.json> writes the per-frame data (A's recorded mouth,
 *   the server's frame log, B's viewed frames);
 * - glass_p50/p95_ms: A's capture time of the motion → B's presentation of the frame (both pages
 *   share this machine's clock; epoch ms) (target p95 ≤ 250; asserted ≤ GLASS_P95_FLOOR_MS);
 * - av_offset_ms: A's voice against A's avatar at B (positive: audio leads): the avatar's median
 *   capture→presentation latency minus the voice's, the latter from cross-correlating A's
 *   microphone envelope with the envelope of A's voice as it plays at B (envelope corr > 0.5;
 *   target offset within +45/−125 ms, asserted within +100/−500, see there);
 * and: motion stopped → B keeps getting frames (target ≥ 20 fps; asserted ≥ VIEWER_FPS_FLOOR) and
 * B's landmarker sees the avatar's eyes close; an identity A is not granted
 * is refused (FORBIDDEN) and the avatar keeps running.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../../server/src/AvatarServer';
import type { AvatarSession } from '../../server/src/avatar/AvatarSession';
import { testStudentDir } from '../../server/src/avatar/testStudent';
import type { RecordedMotionFrame } from '../../client/src/avatar/installAvatarMode';
import type { EnvelopePoint, ViewedFrame } from '../../client/src/avatar/AvatarViewerProbe';
import { BrowserPeer, showsAvatarOf } from '../support/BrowserPeer';
import { launchChromium } from '../support/chromium';
import { clipAudioToWav, clipToY4m } from '../support/fakeMedia';
import { startTestServer } from '../support/testServer';
import { pearson, quantile } from '../support/stats';
import { waitFor } from '../support/waitFor';

const roomId = 'e2e-avatar-live';
const clip = process.env.AVATAR_E2E_CLIP || 'd10.mp4';
const CLIP_SECONDS = 12;
/**
 * Floors, not the targets (issue 9: viewer ≥ 20 fps, glass p95 ≤ 250 ms, idle ≥ 20 fps): speed is
 * the benchmark's job (`npm run bench:avatars`). These only prove the pipeline works on a shared
 * 2-core machine where the ONNX student, VP8, two Chromiums (A's live Face Landmarker included)
 * and other jobs compete (measured here: 1.4–15 fps, p95 390–640 ms at load averages 6–16):
 * - ≥ 2 fps: B decodes a continuous stream of inter frames (periodic key frames alone would be
 *   0.1 fps; a stalled encoder, lost RTP or a failing decoder give ~0);
 * - p95 ≤ 1000 ms: no growing backlog (stale frames are dropped, never queued; a queue would
 *   grow without bound over the window).
 * The measured figures are printed and the README compares them with the targets.
 */
/**
 * The target for the mouth A sent against the mouth B sees. Measured 0.865–0.93 over
 * 54–280 frames in six runs since the driver's neutral follows the closed mouth (0.63–0.77 before:
 * a talking driver's calibrated neutral crossed the identity's lips); offline, over four
 * calibration starts in the clip, 0.88–0.94 (test/tools/mouth-chain, README "Where the mouth
 * correlation went").
 */
const MOUTH_CORR_FLOOR = 0.8;
const VIEWER_FPS_FLOOR = 2;
const GLASS_P95_FLOOR_MS = 1000;

/** Mouth opening of driver landmarks in pixels: inner lip gap / face height. */
function mouthOfLandmarks(l: number[], width: number, height: number): number {
  const d = (a: number, b: number) => Math.hypot((l[a * 3]! - l[b * 3]!) * width, (l[a * 3 + 1]! - l[b * 3 + 1]!) * height);
  return d(13, 14) / d(10, 152);
}

/** A series sampled on a regular grid (stepMs) by linear interpolation, from start to end. */
function resample(points: { t: number; v: number }[], start: number, end: number, stepMs: number): number[] {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const out: number[] = [];
  let j = 0;
  for (let t = start; t <= end; t += stepMs) {
    while (j < sorted.length - 2 && sorted[j + 1]!.t < t) j += 1;
    const a = sorted[j]!;
    const b = sorted[Math.min(j + 1, sorted.length - 1)]!;
    const f = b.t === a.t ? 0 : Math.min(1, Math.max(0, (t - a.t) / (b.t - a.t)));
    out.push(a.v + f * (b.v - a.v));
  }
  return out;
}

/**
 * How much later the same sound plays at B than at A's capture: the lag (ms, 0–1500 in 5 ms
 * steps) maximising the correlation of A's microphone envelope with B's envelope of A's voice
 * (both epoch-timed on this machine), and that correlation.
 */
function audioLatencyMs(atA: EnvelopePoint[], atB: EnvelopePoint[]): { lagMs: number; corr: number } {
  const start = Math.max(atA[0]!.atMs, atB[0]!.atMs - 1500) + 200;
  const end = Math.min(atA.at(-1)!.atMs, atB.at(-1)!.atMs - 1500) - 200;
  const a = resample(atA.map((p) => ({ t: p.atMs, v: p.rms })), start, end, 5);
  const b = resample(atB.map((p) => ({ t: p.atMs, v: p.rms })), start, end + 1500, 5);
  let best = { lagMs: 0, corr: -Infinity };
  for (let lag = 0; lag <= 1500; lag += 5) {
    const shifted = a.map((_, i) => b[i + lag / 5] ?? 0);
    const c = pearson(a, shifted);
    if (c > best.corr) best = { lagMs: lag, corr: c };
  }
  return best;
}

describe('live avatar: motion → student → VP8 → SFU → a viewer', () => {
  let server: AvatarServer;
  let browser: Browser;
  let alice: BrowserPeer;
  let bob: BrowserPeer;
  let aliceId: string;
  let session: AvatarSession;
  const states: string[] = [];
  const figures: Record<string, number | null> = {};
  let audio: { alice: EnvelopePoint[]; bob: EnvelopePoint[] } | undefined;
  let videoLatencyMs: number | undefined;

  beforeAll(async () => {
    const [fakeVideo, fakeAudio] = await Promise.all([
      clipToY4m({ clip, width: 640, height: 480, fps: 25, seconds: CLIP_SECONDS }),
      clipAudioToWav(clip, CLIP_SECONDS),
    ]);
    server = await startTestServer({
      avatar: {
        identities: [
          { identityId: 'demo', displayName: 'Demo identity', studentDir: testStudentDir() },
          { identityId: 'other', displayName: 'Someone else', studentDir: testStudentDir() },
        ],
        roomGrants: { [roomId]: ['demo'] },
      },
    });
    server.avatars.on('sessionopened', (s) => {
      session = s;
      states.push(s.state);
      s.on('state', (state) => states.push(state));
    });
    browser = await launchChromium({ fakeVideo, fakeAudio });
    alice = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ava', quality: 'medium', recordLocalTileStates: true });
    bob = await BrowserPeer.join(browser, { serverUrl: server.url, roomId, displayName: 'Ben', quality: 'low' });
    aliceId = (await alice.peerId()) as string;
  }, 180_000);

  afterAll(async () => {
    if (session) {
      const stats = session.stats();
      figures.server_inference_p50_ms = stats.inferenceMsP50 === null ? null : Math.round(stats.inferenceMsP50);
      figures.server_encode_p50_ms = stats.encodeMsP50 === null ? null : Math.round(stats.encodeMsP50 * 10) / 10;
      figures.server_dropped = Object.values(stats.framesDropped).reduce((a, b) => a + b, 0);
      figures.server_frames_sent = stats.framesSent;
    }
    console.log(JSON.stringify(figures));
    await alice?.close();
    await bob?.close();
    await browser?.close();
    await server?.close();
  });

  it('turns avatar mode on with the granted identity: calibration first, then a synthetic track B decodes', async () => {
    await alice.page.click('#toggle-avatar');
    await alice.page.waitForFunction(() => window.__avatar?.state === 'on', undefined, { timeout: 90_000 });
    await waitFor(async () => (await alice.page.evaluate(() => window.__avatar?.avatarState()?.state)) === 'live', {
      timeoutMs: 30_000,
      message: `the avatar never went live; states ${states.join(',')}; problems: ${alice.problems.join(' | ')}`,
    });
    expect(states).toContain('calibrating');
    expect(await alice.page.evaluate(() => window.__avatar?.identities().map((i) => i.identityId))).toEqual(['demo']);
    const producer = session.serverProducer.producer;
    expect(producer.appData.synthetic).toEqual({ kind: 'ai-avatar', drivenByPeerId: aliceId, identityId: 'demo' });

    const isAvatar = (s: { drivenByPeerId: string | null; kind: string }) => s.drivenByPeerId === aliceId && s.kind === 'video';
    await bob.expectRising(isAvatar, (s) => s.framesDecoded ?? 0, { what: "A's avatar framesDecoded" });
    // Disclosure: B's tile of the avatar and A's own view of it both carry the label.
    expect(await bob.page.textContent('.tile[data-synthetic="ai-avatar"] .tile-ai-label')).toBe('AI avatar');
    expect(await alice.page.textContent('.tile[data-own-avatar="true"] .tile-ai-label')).toBe('AI avatar');
    // One tile per person: B sees the avatar inside A's tile, with A's voice playing from it and the
    // label visible, and no tile for the server peer that publishes it.
    const bobId = (await bob.peerId()) as string;
    const seenByBob = await bob.waitForTiles((tiles) => tiles.some((t) => t.peerId === aliceId && showsAvatarOf(t, aliceId) && t.state === 'live'),
      "A's avatar live in A's tile");
    expect(seenByBob.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    expect(seenByBob.find((t) => t.peerId === aliceId)).toMatchObject({ name: 'Ava', kind: 'human', audio: { peerId: aliceId, source: 'mic' } });
    // A sees its own avatar as the others do, in its own tile, its camera preview as an inset; it
    // was asked to look at the camera while the server calibrated.
    const seenByAlice = await alice.waitForTiles((tiles) => tiles.some((t) => t.local && showsAvatarOf(t, aliceId)), 'its own avatar in its own tile');
    expect(seenByAlice.map((t) => t.peerId).sort()).toEqual([aliceId, bobId].sort());
    expect(seenByAlice.find((t) => t.local)).toMatchObject({ name: 'Ava (you)', ownAvatar: true, note: 'as others see you', camera: 'local', cameraVisible: true });
    const localStates = await alice.localTileStates();
    expect(localStates).toContain('look at the camera…');
    expect(localStates).not.toContain('no camera or mic');
  }, 180_000);

  it("B's landmarker sees A's mouth motion on the received avatar (target corr ≥ 0.8); capture-to-presentation latency", async () => {
    await alice.page.evaluate(() => {
      window.__avatar?.record(100_000);
      window.__avatar?.recordAudio('local');
    });
    await bob.page.evaluate((id) => {
      window.__avatar?.recordAudio(id);
      return window.__avatar?.watchAvatar(id);
    }, aliceId);
    const isAvatar = (s: { drivenByPeerId: string | null; kind: string }) => s.drivenByPeerId === aliceId && s.kind === 'video';
    const read = async () => ((await bob.inboundStats()).find(isAvatar)?.framesDecoded ?? 0) as number;
    const f0 = await read();
    const t0 = performance.now();
    // 15 s (the audio cross-correlation needs several phrases), extended (up to 30 s) until B has
    // decoded ≥ 60 frames in the window and the server has sent ≥ 60 frames rendered from live
    // motion (not 'hold'): when other jobs starve this machine both drop, and the correlation
    // still needs enough frames.
    const windowStart = Date.now();
    const liveSent = () => session.recentFrames().filter((f) => f.state === 'live' && (f.originCaptureTimeMs ?? 0) >= windowStart).length;
    await new Promise((r) => setTimeout(r, 15_000));
    while (((await read()) - f0 < 60 || liveSent() < 60) && performance.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 1000));
    figures.window_s = Math.round((performance.now() - t0) / 100) / 10;
    const viewerFps = ((await read()) - f0) / ((performance.now() - t0) / 1000);
    figures.viewer_fps = Math.round(viewerFps * 10) / 10;
    // Stop every recorder first (audio at both ends, A's motion), then B's landmarker runs over
    // the recorded frames after the window.
    const bobAudio = (await bob.page.evaluate(() => window.__avatar?.stopAudio() ?? [])) as EnvelopePoint[];
    const [recorded, aliceAudio] = (await alice.page.evaluate(() => [window.__avatar?.stopRecording() ?? [], window.__avatar?.stopAudio() ?? []])) as [
      RecordedMotionFrame[],
      EnvelopePoint[],
    ];
    const frameLog = [...session.recentFrames()];
    const { frames: viewed, callbacks } = (await bob.page.evaluate(() => window.__avatar?.stopWatching())) as { frames: ViewedFrame[]; callbacks: number };
    audio = { alice: aliceAudio, bob: bobAudio };
    const log = new Map(frameLog.map((f) => [f.rtpTimestamp, f]));
    const byCapture = new Map(recorded.map((r) => [Math.round(r.captureTimeMs * 16), r]));
    const pairs: { sent: number; retargeted: number; seen: number }[] = [];
    const glass: number[] = [];
    for (const frame of viewed) {
      if (frame.rtpTimestamp === null) continue;
      const sent = log.get(frame.rtpTimestamp);
      if (!sent || sent.originCaptureTimeMs === null || sent.state !== 'live') continue;
      glass.push(frame.presentedAtMs - sent.originCaptureTimeMs);
      const motion = byCapture.get(Math.round(sent.originCaptureTimeMs * 16));
      if (!motion || frame.mouthOpen === null) continue;
      pairs.push({ sent: mouthOfLandmarks(motion.landmarks, motion.imageWidth, motion.imageHeight), retargeted: sent.mouthOpen, seen: frame.mouthOpen });
    }
    expect(viewerFps).toBeGreaterThanOrEqual(VIEWER_FPS_FLOOR);
    const facesFound = viewed.filter((f) => f.mouthOpen !== null).length;
    console.log(`viewer: ${callbacks} frames presented, face found on ${facesFound}, ${glass.length} matched to sent motion, ${pairs.length} with A's recorded landmarks`);
    if (process.env.AVATAR_E2E_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.AVATAR_E2E_DUMP, JSON.stringify({
        recorded: recorded.map((r) => ({ captureTimeMs: r.captureTimeMs, seq: r.seq, pre: mouthOfLandmarks(r.landmarks, r.imageWidth, r.imageHeight), dec: mouthOfLandmarks(r.decoded, r.imageWidth, r.imageHeight) })),
        frameLog,
        viewed,
      }));
    }
    const corr = pearson(pairs.map((p) => p.sent), pairs.map((p) => p.seen));
    figures.mouth_corr = Math.round(corr * 1000) / 1000;
    figures.mouth_pairs = pairs.length;
    // Where the correlation goes (diagnostic, not asserted): A's sent mouth → the server's
    // retargeted landmarks that the student rendered for that frame.
    figures.mouth_corr_retargeted = Math.round(pearson(pairs.map((p) => p.sent), pairs.map((p) => p.retargeted)) * 1000) / 1000;
    figures.glass_p50_ms = Math.round(quantile(glass, 0.5));
    figures.glass_p95_ms = Math.round(quantile(glass, 0.95));
    videoLatencyMs = quantile(glass, 0.5);
    // B's landmarker ran on every frame B presented (recorded, landmarked after the window).
    expect(pairs.length).toBeGreaterThanOrEqual(30);
    // Target (issue 9): ≥ 0.8, asserted (see MOUTH_CORR_FLOOR).
    expect(corr).toBeGreaterThanOrEqual(MOUTH_CORR_FLOOR);
    // Target (issue 9): p95 ≤ 250 ms on loopback. Asserted here only as a floor that proves the
    // frames are live and not piling up in a queue: ≤ 1000 ms (4× the target; a backlog grows
    // without bound, while starving this shared 2-core machine measured 440–640 ms p95). The
    // figure is printed and the README compares it with the target.
    expect(figures.glass_p95_ms).toBeLessThanOrEqual(GLASS_P95_FLOOR_MS);
  }, 180_000);

  it("A's voice is held back to A's avatar at B (target within +45 / −125 ms)", () => {
    // Video: A's capture → B's presentation (median, exact per frame through the RTP mapping).
    // Audio: the same sound at A's microphone and as it plays at B (envelope cross-correlation).
    if (!audio || videoLatencyMs === undefined) throw new Error('the measurement window of the previous test did not run');
    const latency = audioLatencyMs(audio.alice, audio.bob);
    console.log(`A's voice reaches B after ${latency.lagMs} ms (envelope corr ${latency.corr.toFixed(2)}); A's avatar after ${Math.round(videoLatencyMs)} ms`);
    expect(latency.corr).toBeGreaterThan(0.5);
    const offset = Math.round(videoLatencyMs - latency.lagMs);
    figures.audio_latency_ms = latency.lagMs;
    figures.av_offset_ms = offset;
    // Target (issue 9): within +45 / −125 ms. Asserted as floors that prove listener-side lip
    // sync is applied: without it the voice would lead by nearly the whole avatar latency
    // (+250…+400 ms here), so ≤ +100 ms shows B holds the voice back; ≥ −500 ms bounds the
    // over-delay. The server's delay estimate follows its own capture→RTP delay, which jumps when
    // this shared machine is starved (measured −284 ms once at load ~10; −91…+12 otherwise).
    expect(offset).toBeLessThanOrEqual(100);
    expect(offset).toBeGreaterThanOrEqual(-500);
  });

  it("follows B's bandwidth: mediasoup's estimate for B's transport drives the avatar's VP8 bitrate", () => {
    // Issue 9: the bitrate starts at the config's and follows the consuming transports'
    // availableOutgoingBitrate (80 % of the lowest, within [min, max]), polled every 2 s; by now
    // (≥ 15 s of viewing) B's real Chromium has given mediasoup a send-side estimate.
    const stats = session!.stats();
    figures.bwe_kbps = stats.bandwidthEstimateKbps === null ? null : Math.round(stats.bandwidthEstimateKbps);
    figures.bitrate_kbps = stats.bitrateKbps;
    expect(stats.bandwidthEstimateKbps).not.toBeNull();
    const { bitrateKbps: start, minBitrateKbps, maxBitrateKbps } = server.config.avatar.encoder;
    const target = Math.max(minBitrateKbps, Math.min(maxBitrateKbps, 0.8 * stats.bandwidthEstimateKbps!));
    // Switches need a > 15 % change and happen at most every 5 s, so the bitrate may trail the
    // latest estimate; it has left the configured start unless the estimate sits right there.
    if (Math.abs(target - start) / start > 0.3) expect(stats.bitrateKbps).not.toBe(start);
    expect(stats.bitrateKbps).toBeGreaterThanOrEqual(minBitrateKbps);
    expect(stats.bitrateKbps).toBeLessThanOrEqual(maxBitrateKbps);
  });

  it('keeps B supplied with an idle, blinking face when A stops sending motion', async () => {
    await alice.page.evaluate(() => window.__avatar?.pauseMotion(true));
    await waitFor(() => (session.state === 'idle' ? true : undefined), { timeoutMs: 5000, message: `still ${session.state}` });
    const blinks = session.stats().blinks;
    await bob.page.evaluate((id) => window.__avatar?.watchAvatar(id), aliceId);
    const isAvatar = (s: { drivenByPeerId: string | null; kind: string }) => s.drivenByPeerId === aliceId && s.kind === 'video';
    const read = async () => ((await bob.inboundStats()).find(isAvatar)?.framesDecoded ?? 0) as number;
    const f0 = await read();
    const t0 = performance.now();
    // A blink comes at most 1.4 × 60/12 s = 7 s after the previous one. A blink lasts 120–300 ms
    // and ticks whose inference is still busy are dropped, so on a starved machine one blink can
    // fall entirely between rendered frames: wait for two (≤ 20 s), then ½ s for the last to arrive.
    await new Promise((r) => setTimeout(r, 8000));
    while (session.stats().blinks - blinks < 2 && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 500));
    const idleFps = ((await read()) - f0) / ((performance.now() - t0) / 1000);
    const serverBlinks = session.stats().blinks - blinks;
    const stillIdle = session.state;
    // B's landmarker runs over the recorded idle frames now, after the window.
    const viewed = ((await bob.page.evaluate(async () => (await window.__avatar?.stopWatching())?.frames)) ?? []) as ViewedFrame[];
    const eyes = viewed.flatMap((f) => (f.eyeOpen === null ? [] : [f.eyeOpen]));
    const median = quantile(eyes, 0.5);
    // A closure: eye openness falling below 0.8 × the window's median (the head sway moves it by
    // ≤ ±8 %; the rendered blinks seen here dip to 0.56–0.76, depending on how near the blink's
    // peak a rendered frame falls).
    const closed = (e: number) => e < 0.8 * median;
    const closures = eyes.filter((e, i) => closed(e) && (i === 0 || !closed(eyes[i - 1]!))).length;
    figures.idle_fps = Math.round(idleFps * 10) / 10;
    figures.idle_blinks = serverBlinks;
    figures.idle_eye_closures_seen = closures;
    figures.idle_frames_seen = eyes.length;
    figures.idle_eye_min_ratio = eyes.length ? Math.round((Math.min(...eyes) / median) * 100) / 100 : null;
    console.log(`idle eye openness / median: ${eyes.map((e) => (e / median).toFixed(2)).join(' ')}`);
    expect(stillIdle).toBe('idle');
    expect(idleFps).toBeGreaterThanOrEqual(VIEWER_FPS_FLOOR);
    expect(serverBlinks).toBeGreaterThan(0);
    // B sees the blinks on the received frames: every recorded frame was landmarked.
    expect(eyes.length).toBeGreaterThanOrEqual(30);
    expect(closures).toBeGreaterThanOrEqual(1);
    await alice.page.evaluate(() => window.__avatar?.pauseMotion(false));
  }, 60_000);

  it('refuses an identity A is not granted, with a clear error, and the avatar keeps running', async () => {
    const producerId = session.producerId;
    // Every text the state line takes (a later state, e.g. 'hold' on a starved machine, may
    // replace the refusal within milliseconds; the refusal must have been shown).
    const { refusal, shown } = (await alice.page.evaluate(async () => {
      const line = document.querySelector('[data-testid="avatar-state"]') as HTMLElement;
      const texts: string[] = [];
      const observer = new MutationObserver(() => texts.push(line.textContent ?? ''));
      observer.observe(line, { childList: true, characterData: true, subtree: true });
      const message = await window.__avatar?.startAvatar('other').then(() => 'accepted', (e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 0));
      observer.disconnect();
      return { refusal: message, shown: [...texts, line.textContent ?? ''] };
    })) as { refusal: string; shown: string[] };
    expect(refusal).toMatch(/FORBIDDEN/);
    expect(refusal).toMatch(/other/);
    expect(shown.some((text) => /not use identity "other"/.test(text))).toBe(true);
    expect(session.closed).toBe(false);
    expect(server.avatars.session(server.rooms.get(roomId)!.peers.get(aliceId)!)?.producerId).toBe(producerId);
  }, 30_000);

  it("turning avatar mode off puts A's camera back in A's tile, without the label, on both pages", async () => {
    await alice.page.evaluate(() => window.__avatar?.disable());
    expect(await alice.page.evaluate(() => window.__avatar?.state)).toBe('off');
    await bob.waitForTiles((tiles) => {
      const a = tiles.find((t) => t.peerId === aliceId);
      return tiles.length === 2 && a !== undefined && a.avatar === null && a.synthetic === null && !a.aiLabelVisible && a.cameraVisible &&
        a.camera !== null && a.camera !== 'local' && a.camera.source === 'camera' && a.state === 'live';
    }, "A's tile back on A's camera", 30_000);
    await alice.waitForTiles((tiles) => {
      const me = tiles.find((t) => t.local);
      return tiles.length === 2 && me !== undefined && me.avatar === null && !me.ownAvatar && !me.aiLabelVisible && me.cameraVisible && me.state === 'live';
    }, 'its own tile back on its camera preview', 30_000);
  }, 60_000);
});
