/**
 * The local microphone and camera. Opening asks for both; if one is missing or refused, the
 * other is still used (and with neither the user joins receive-only), so a broken webcam never
 * keeps anyone out of a call. The owner calls `stop()` when leaving.
 */
import { videoPresets, type MediaQuality } from './mediaQuality';

export interface LocalMediaOptions {
  audio?: boolean;
  video?: boolean;
  quality?: MediaQuality;
}

export class LocalMedia {
  readonly stream: MediaStream;
  /** Why a device could not be used, for the status line. */
  readonly problems: readonly string[];
  #stopped = false;

  static async open(options: LocalMediaOptions = {}): Promise<LocalMedia> {
    const preset = videoPresets[options.quality ?? 'medium'];
    const audio: MediaTrackConstraints | false =
      options.audio === false ? false : { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    const video: MediaTrackConstraints | false =
      options.video === false
        ? false
        : { width: { ideal: preset.width }, height: { ideal: preset.height }, frameRate: { ideal: preset.frameRate } };
    const stream = new MediaStream();
    const problems: string[] = [];
    if (!navigator.mediaDevices?.getUserMedia) {
      return new LocalMedia(stream, ['this page cannot use the camera or microphone (needs https or localhost)']);
    }
    // One prompt for both in the common case; if that fails, ask for each device separately so
    // that one missing or refused device does not lose the other.
    if (audio !== false && video !== false) {
      try {
        const both = await navigator.mediaDevices.getUserMedia({ audio, video });
        return new LocalMedia(both, []);
      } catch {
        // fall through to one device at a time, which also tells which one failed
      }
    }
    for (const [kind, constraints] of [['microphone', audio], ['camera', video]] as const) {
      if (constraints === false) continue;
      try {
        const got = await navigator.mediaDevices.getUserMedia(kind === 'microphone' ? { audio: constraints } : { video: constraints });
        for (const track of got.getTracks()) stream.addTrack(track);
      } catch (error) {
        problems.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return new LocalMedia(stream, problems);
  }

  private constructor(stream: MediaStream, problems: string[]) {
    this.stream = stream;
    this.problems = problems;
  }

  get audioTrack(): MediaStreamTrack | undefined {
    return this.stream.getAudioTracks()[0];
  }

  get videoTrack(): MediaStreamTrack | undefined {
    return this.stream.getVideoTracks()[0];
  }

  /** Idempotent: stops every track (turns the camera light off). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const track of this.stream.getTracks()) track.stop();
  }
}
