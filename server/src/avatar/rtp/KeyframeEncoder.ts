/**
 * A VP8 encoder that yields a key frame on demand, although ffmpeg ignores PLI/FIR: it keeps a
 * pre-warmed standby ffmpeg (started, waiting for its first frame), and on `requestKeyframe()`
 * sends the next frame to the standby instead — whose first output is a key frame — makes it the
 * active encoder and starts a new standby. The RTP stream (SSRC, sequence numbers, timestamps,
 * PictureIDs) is the packetizer's, so the switch is invisible to receivers except for the key
 * frame. Bitrate changes take the same path (a new standby at the new rate), at most every
 * `minBitrateSwitchMs`. An active ffmpeg that dies is replaced by the standby the same way.
 */
import type { Logger } from '../../logger';
import { TypedEmitter } from '../../util/TypedEmitter';
import { FfmpegVp8Encoder, type EncodedFrame, type Vp8EncoderSettings } from './FfmpegVp8Encoder';

export type KeyframeReason = 'pli' | 'fir' | 'start' | 'bitrate' | 'encoder_died';

export type KeyframeEncoderEvents = {
  /** An encoder switch happened (why, and the new bitrate). */
  switched: [KeyframeReason, number];
  close: [];
};

export class KeyframeEncoder extends TypedEmitter<KeyframeEncoderEvents> {
  readonly #log: Logger;
  #settings: Vp8EncoderSettings;
  #active: FfmpegVp8Encoder;
  #standby: FfmpegVp8Encoder | undefined;
  #wanted: KeyframeReason | undefined;
  #lastBitrateSwitchMs = Number.NEGATIVE_INFINITY;
  #lastStandbySpawnMs = Number.NEGATIVE_INFINITY;
  #closed = false;
  readonly #retiring = new Set<FfmpegVp8Encoder>();
  readonly #minBitrateSwitchMs: number;
  /** Encoder processes started (active + standbys), for stats and leak tests. */
  spawned = 0;
  switches = 0;

  constructor(settings: Vp8EncoderSettings, logger: Logger, options: { minBitrateSwitchMs?: number } = {}) {
    super();
    this.#log = logger;
    this.#settings = settings;
    this.#minBitrateSwitchMs = options.minBitrateSwitchMs ?? 5000;
    this.#active = this.#spawn();
    this.#standby = this.#spawn();
  }

  get bitrateKbps(): number {
    return this.#active.settings.bitrateKbps;
  }

  /** Frames waiting inside the active encoder. */
  get inFlight(): number {
    return this.#active.inFlight;
  }

  /** Live ffmpeg pids (active, standby). */
  get pids(): number[] {
    return [this.#active.pid, this.#standby?.pid].filter((p): p is number => p !== undefined);
  }

  /** The next encoded frame will be a key frame. */
  requestKeyframe(reason: KeyframeReason): void {
    this.#wanted ??= reason;
  }

  /** Moves to `kbps` (rounded) with the next frame if it differs by > 15 % and no recent change. */
  setBitrate(kbps: number, nowMs = performance.now()): void {
    const target = Math.round(kbps);
    const current = this.#settings.bitrateKbps;
    if (Math.abs(target - current) / current <= 0.15 || nowMs - this.#lastBitrateSwitchMs < this.#minBitrateSwitchMs) return;
    this.#lastBitrateSwitchMs = nowMs;
    this.#settings = { ...this.#settings, bitrateKbps: target };
    // The waiting standby has the old rate: replace it, and switch with the next frame.
    this.#standby?.close();
    this.#standby = this.#spawn();
    this.#wanted ??= 'bitrate';
  }

  /**
   * Encodes one S×S×3 RGB frame (S = settings.size); a key frame if one was asked for. Rejects
   * with EncoderClosedError when its ffmpeg ends first, RangeError for a frame of the wrong size.
   */
  encode(rgb: Uint8Array, nowMs = performance.now()): Promise<EncodedFrame> {
    if (this.#closed) return Promise.reject(new Error('KeyframeEncoder closed'));
    this.#replaceDeadStandby(nowMs);
    // An encoder's first frame is a key frame: an active one that has had none yet (a session's
    // 'start' request) answers the request itself, at the wanted rate, without a switch.
    const fresh = this.#active.alive && this.#active.framesIn === 0 && this.#active.settings.bitrateKbps === this.#settings.bitrateKbps;
    if (fresh) this.#wanted = undefined;
    if (!this.#active.alive) this.#wanted ??= 'encoder_died';
    if (this.#wanted && this.#standby?.alive) this.#switch(this.#wanted);
    else if (!this.#active.alive) {
      // no standby either: start over (a new encoder's first frame is a key frame)
      this.#active = this.#spawn();
      this.#wanted = undefined;
    }
    return this.#active.encode(rgb);
  }

  /**
   * A standby whose ffmpeg ended while it waited is replaced (at most once a second, so a missing
   * binary does not spawn a process per frame): without one, PLI/FIR would go unanswered until the
   * next periodic key frame.
   */
  #replaceDeadStandby(nowMs: number): void {
    if (this.#standby?.alive || nowMs - this.#lastStandbySpawnMs < 1000) return;
    this.#log.warn('standby VP8 encoder ended; starting another');
    this.#standby?.close();
    this.#standby = this.#spawn();
    this.#lastStandbySpawnMs = nowMs;
  }

  /** Idempotent: closes both ffmpeg processes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#active.close();
    this.#standby?.close();
    this.#standby = undefined;
    for (const e of this.#retiring) e.close();
    this.#retiring.clear();
    this.safeEmit('close');
    this.removeAllListeners();
  }

  #switch(reason: KeyframeReason): void {
    const old = this.#active;
    this.#active = this.#standby as FfmpegVp8Encoder;
    this.#standby = this.#spawn();
    this.#wanted = undefined;
    this.switches += 1;
    // Let the old encoder finish the frames it holds (already written before the switch), then end it.
    this.#retiring.add(old);
    const retire = (): void => {
      this.#retiring.delete(old);
      old.close();
    };
    if (old.inFlight === 0) retire();
    else setTimeout(retire, 500).unref();
    this.#log.debug({ reason, bitrateKbps: this.#active.settings.bitrateKbps }, 'encoder switched for a key frame');
    this.safeEmit('switched', reason, this.#active.settings.bitrateKbps);
  }

  #spawn(): FfmpegVp8Encoder {
    this.spawned += 1;
    return new FfmpegVp8Encoder(this.#settings, this.#log);
  }
}
