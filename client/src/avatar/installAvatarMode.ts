/**
 * Adds avatar mode to every call the App starts, and `window.__avatar` for tests and the
 * console (documented in the README, "Avatar mode (motion uplink)").
 */
import { decodeMotionPacket, loadMotionBasis, MAX_MOTION_PACKET_BYTES } from '@shared/motion';
import { fuzzMessage } from '@shared/motion/motionFuzz';
import { seededRandom } from '@shared/seededRandom';
import type { MotionStatsPayload } from '@shared/signalling/motionStats';
import type { AvatarStateData, AvatarStats } from '@shared/avatar/avatarProtocol';
import type { App } from '../App';
import { AvatarMode } from './AvatarMode';
import { VoiceAvatar, type VoiceAvatarState } from './VoiceAvatar';
import { AudioEnvelopeRecorder, AvatarViewerProbe, type EnvelopePoint, type ViewedFrame } from './AvatarViewerProbe';
import { AudioPlayoutRecorder, type PlayoutBlock } from './AudioPlayoutRecorder';
import type { MotionUplink, UplinkCounters } from './MotionUplink';

/** One recorded frame: what the page tracked (pre-encode) and its own decoding of the packet. */
export interface RecordedMotionFrame {
  seq: number;
  captureTimeMs: number;
  imageWidth: number;
  imageHeight: number;
  /** 478*3 as MediaPipe gave them, before encoding. */
  landmarks: number[];
  /** 478*3 as this page's decoder reconstructs them from the sent packet. */
  decoded: number[];
  packetBytes: number;
}

export interface FuzzReport {
  sent: number;
  /** How many of them this page's own decoder refuses (strings counted as refused). */
  invalid: number;
}

export interface AvatarTestHook {
  readonly state: string;
  enable(): Promise<void>;
  disable(): Promise<void>;
  /** Uplink counters of the current (or last) uplink; null before the first. */
  counters(): UplinkCounters | null;
  /** The latest motionStats the server pushed to this page. */
  serverStats(): MotionStatsPayload | null;
  uplinkKbps(): number;
  dataProducerId(): string | null;
  /** Starts recording up to `max` sent frames by seq (clears earlier recordings). */
  record(max: number): void;
  recorded(): RecordedMotionFrame[];
  /** Stops recording; returns what was recorded. */
  stopRecording(): RecordedMotionFrame[];
  /** Granted identities (after avatar mode started). */
  identities(): { identityId: string; displayName: string; version: number }[];
  /** Renders as `identityId`; rejects with the server's refusal ("FORBIDDEN: ..."). */
  startAvatar(identityId: string): Promise<void>;
  /** The latest avatarState / avatarStats the server pushed. */
  avatarState(): AvatarStateData | null;
  avatarStats(): AvatarStats | null;
  /** Stops (true) or resumes sending motion, as a background tab would. */
  pauseMotion(paused: boolean): void;
  /** Starts recording the decoded frames of the AI avatar driven by `peerId` (viewer side). */
  watchAvatar(drivenByPeerId: string): Promise<void>;
  /**
   * Stops recording, then runs Face Landmarker on every recorded frame (after the window, so it
   * does not compete with the pipeline it measures); returns them in presentation order.
   */
  stopWatching(): Promise<{ frames: ViewedFrame[]; callbacks: number }>;
  /** Records the audio envelope of `peerId`'s audio as it plays here ('local': this page's mic). */
  recordAudio(peerId: string | 'local'): void;
  stopAudio(): EnvelopePoint[];
  /** The voice avatar of a call joined "audio only, as avatar" (null otherwise): its state and panel text. */
  voice(): { state: VoiceAvatarState; identityId: string | null; panel: { state: string; stats: string } } | null;
  /** Records `peerId`'s audio as it plays here with sample-accurate times (AudioWorklet + the context's output timestamps). */
  recordPlayout(peerId: string): Promise<void>;
  stopPlayout(): PlayoutBlock[];
  /** Sends `count` hostile messages on the motion channel (paced on its buffer). */
  fuzz(count: number, seed: number): Promise<FuzzReport>;
  /** Sends `count` copies of recent real packets as fast as the channel takes them. */
  flood(count: number): Promise<number>;
}

declare global {
  interface Window {
    __avatar?: AvatarTestHook;
  }
}

export function installAvatarMode(app: App): void {
  let mode: AvatarMode | undefined;
  let voice: VoiceAvatar | undefined;
  let playout: AudioPlayoutRecorder | undefined;
  let lastUplink: MotionUplink | undefined;
  let recording: { max: number; frames: RecordedMotionFrame[] } | undefined;
  let probe: AvatarViewerProbe | undefined;
  let probeTracker: Promise<import('../tracking/FaceTracker').FaceTracker> | undefined;
  let audio: AudioEnvelopeRecorder | undefined;
  /** Recent real packets, the templates of the fuzzer's mutations. */
  const recentPackets: Uint8Array[] = [];

  app.on('sessionstarted', ({ session, view, localMedia, choice }) => {
    mode?.close();
    voice?.close();
    voice = undefined;
    if (choice.mode === 'audio-avatar') {
      // joined "audio only, as avatar": the voice-driven avatar starts at once (refusals stay in its panel)
      voice = new VoiceAvatar({ session, view });
      voice.on('error', (error) => console.warn('voice avatar refused', error.message));
      void voice.start().catch(() => undefined);
    }
    // MediaPipe's JS loads only when avatar mode is first turned on (a separate chunk).
    const createTracker = async () => (await import('../tracking/FaceTracker')).FaceTracker.create();
    const current = new AvatarMode({ session, view, localMedia, createTracker });
    mode = current;
    current.on('error', (error) => console.error('avatar mode failed', error));
    current.on('uplink', (uplink) => {
      lastUplink = uplink;
      uplink.on('sent', ({ sample, packet }) => {
        recentPackets.push(packet);
        if (recentPackets.length > 32) recentPackets.shift();
        if (!recording || recording.frames.length >= recording.max) return;
        const decoded = decodeMotionPacket(packet, loadMotionBasis());
        if (!decoded.ok) {
          console.error('the page cannot decode its own motion packet', decoded.error, decoded.message);
          return;
        }
        recording.frames.push({
          seq: decoded.frame.seq,
          captureTimeMs: sample.captureTimeMs,
          imageWidth: sample.imageWidth,
          imageHeight: sample.imageHeight,
          landmarks: Array.from(sample.landmarks),
          decoded: Array.from(decoded.frame.landmarks),
          packetBytes: packet.byteLength,
        });
      });
    });
  });
  app.on('sessionended', () => {
    mode?.close();
    mode = undefined;
    voice?.close();
    voice = undefined;
  });

  const requireMode = (): AvatarMode => {
    if (!mode) throw new Error('not in a call');
    return mode;
  };

  window.__avatar = {
    get state() {
      return mode?.state ?? 'off';
    },
    enable: () => requireMode().enable(),
    disable: () => requireMode().disable(),
    counters: () => (lastUplink ? { ...lastUplink.counters, refused: { ...lastUplink.counters.refused } } : null),
    serverStats: () => mode?.serverStats ?? null,
    uplinkKbps: () => lastUplink?.meter.kbps() ?? 0,
    dataProducerId: () => mode?.uplink?.dataProducer.id ?? null,
    identities: () => [...(mode?.identities ?? [])],
    startAvatar: (identityId) => requireMode().selectIdentity(identityId),
    pauseMotion: (paused) => {
      const uplink = requireMode().uplink;
      if (!uplink) throw new Error('avatar mode is off');
      uplink.paused = paused;
    },
    watchAvatar: async (drivenByPeerId) => {
      const session = window.__call?.session;
      const remote = [...(session?.tracks.values() ?? [])].find((t) => t.synthetic?.drivenByPeerId === drivenByPeerId && t.kind === 'video');
      if (!remote) throw new Error(`no AI avatar track driven by ${drivenByPeerId}`);
      // Loaded before the window starts; it runs only in stopWatching().
      probeTracker ??= (await import('../tracking/FaceTracker')).FaceTracker.create();
      await probeTracker;
      probe?.stop();
      probe = new AvatarViewerProbe(remote.track);
    },
    stopWatching: async () => {
      const current = probe;
      probe = undefined;
      if (!current || !probeTracker) return { frames: [], callbacks: 0 };
      current.stop();
      const frames = await current.analyze(await probeTracker);
      return { frames, callbacks: current.callbacks };
    },
    recordAudio: (peerId) => {
      const session = window.__call?.session;
      const track =
        peerId === 'local'
          ? session?.producer('mic')?.track
          : [...(session?.tracks.values() ?? [])].find((t) => t.peerId === peerId && t.kind === 'audio')?.track;
      if (!track) throw new Error(`no audio track for ${peerId}`);
      audio?.stop();
      audio = new AudioEnvelopeRecorder(track);
    },
    stopAudio: () => {
      const points = audio?.stop() ?? [];
      audio = undefined;
      return points;
    },
    voice: () => (voice ? { state: voice.state, identityId: voice.identityId ?? null, panel: voice.panelText } : null),
    recordPlayout: async (peerId) => {
      const track = [...(window.__call?.session?.tracks.values() ?? [])].find((t) => t.peerId === peerId && t.kind === 'audio')?.track;
      if (!track) throw new Error(`no audio track for ${peerId}`);
      playout?.stop();
      playout = await AudioPlayoutRecorder.start(track);
    },
    stopPlayout: () => {
      const blocks = playout?.stop() ?? [];
      playout = undefined;
      return blocks;
    },
    avatarState: () => mode?.avatarState ?? null,
    avatarStats: () => mode?.avatarStats ?? null,
    record: (max) => {
      recording = { max, frames: [] };
    },
    recorded: () => recording?.frames ?? [],
    stopRecording: () => {
      const frames = recording?.frames ?? [];
      recording = undefined;
      return frames;
    },
    fuzz: async (count, seed) => {
      const uplink = requireMode().uplink;
      if (!uplink) throw new Error('avatar mode is off');
      const random = seededRandom(seed);
      const templates = [...recentPackets];
      const basis = loadMotionBasis();
      let sent = 0;
      let invalid = 0;
      while (sent < count) {
        // Keep the SCTP send buffer shallow so nothing is dropped locally for lack of room.
        while (uplink.dataProducer.bufferedAmount > 16 * 1024) await new Promise((r) => setTimeout(r, 5));
        const message = fuzzMessage(random, templates, MAX_MOTION_PACKET_BYTES);
        if (!uplink.sendRaw(message)) throw new Error('the motion channel closed during the fuzz');
        sent += 1;
        if (typeof message === 'string' || !decodeMotionPacket(message, basis).ok) invalid += 1;
        if (sent % 200 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      return { sent, invalid };
    },
    flood: async (count) => {
      const uplink = requireMode().uplink;
      if (!uplink || recentPackets.length === 0) throw new Error('avatar mode is off or has sent nothing yet');
      const templates = [...recentPackets];
      let sent = 0;
      while (sent < count) {
        while (uplink.dataProducer.bufferedAmount > 64 * 1024) await new Promise((r) => setTimeout(r, 1));
        if (!uplink.sendRaw(templates[sent % templates.length] as Uint8Array)) break;
        sent += 1;
      }
      return sent;
    },
  };
}
