/**
 * Opus RTP packets -> a continuous 16 kHz PCM stream that keeps RTP timing.
 *
 * A small reorder buffer (`reorderMs`, default 40 ms) puts packets back in sequence order; a
 * sequence gap still open after that is a loss, filled by libopus's concealment (counted in
 * `stats.lostPackets` / `concealedMs`). Packets later than their slot are dropped (`late`), repeats
 * are dropped (`duplicates`). A timestamp jump with consecutive sequence numbers is discontinuous
 * transmission (silence, `dtxMs`) and is filled with silence. Every output chunk carries its
 * first sample's index on the stream's 16 kHz clock (RTP timestamp / 3, from the first packet),
 * so video can be aligned to the audio, and the server time its newest packet arrived.
 *
 * A gap (DTX or loss) is filled with PCM for at most `MAX_GAP_FILL_48K` (1 s); the clock then
 * jumps over the rest, so a chunk after a long gap starts later than the previous chunk ended.
 * A timestamp that goes back (a sender that restarted its clock) continues the 16 kHz clock where
 * it was: `startSample` never decreases and never wraps.
 *
 * Feed packets with `push(packet, nowMs)` and call `tick(nowMs)` every ~10 ms (AudioTap does) so
 * a stalled stream still releases what it holds.
 */
import { OpusPcmDecoder, OPUS_RATE } from './OpusPcmDecoder';
import { type RtpPacket, parseRtpPacket, seqDiff, timestampDiff, RtpParseError } from './rtpPacket';
import { TypedEmitter } from '../util/TypedEmitter';

export const PCM_RATE = 16000;
const RATE_RATIO = OPUS_RATE / PCM_RATE;
/**
 * Longest gap filled with PCM (48 kHz samples: 1 s). A paused producer (mute) resumes with
 * consecutive sequence numbers and a timestamp that jumped by the whole pause: filling a
 * 10-minute mute sample by sample handed the VAD and the audio-to-mouth model 10 minutes of zeros
 * at once (seconds of inference queued before the unmuted voice), and one packet with a timestamp
 * 2^31 ahead asked for an 8 GB array. One second is enough for the VAD's hang-over and the
 * mouth's release to settle on silence.
 */
export const MAX_GAP_FILL_48K = OPUS_RATE;

export type PcmChunk = {
  /** 16 kHz mono float samples in [-1, 1]. */
  samples: Float32Array;
  /**
   * Index of samples[0] on the stream's 16 kHz clock (0 = the first packet's RTP timestamp):
   * continuous except after a gap longer than MAX_GAP_FILL_48K, which it jumps over; never decreases.
   */
  startSample: number;
  /** Server time (performance.now() ms) the newest packet behind this chunk arrived. */
  arrivalMs: number;
  /** 'decoded' | 'concealed' (loss) | 'silence' (DTX gap). */
  kind: 'decoded' | 'concealed' | 'silence';
};

export type RtpAudioStats = {
  packets: number;
  lostPackets: number;
  concealedMs: number;
  late: number;
  duplicates: number;
  malformed: number;
  decodeErrors: number;
  dtxMs: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  /** Fraction of expected packets lost so far. */
  lossRate: number;
};

type Held = { packet: RtpPacket; arrivalMs: number };

export class RtpAudioReceiver extends TypedEmitter<{ pcm: [PcmChunk] }> {
  readonly #decoder = new OpusPcmDecoder();
  readonly #reorderMs: number;
  readonly #held = new Map<number, Held>();
  #nextSeq: number | undefined;
  /** RTP timestamp (48 kHz) the next output sample corresponds to. */
  #nextTimestamp = 0;
  /** Where `#nextTimestamp` lies on the stream's clock (48 kHz samples since the first packet; unwrapped, never decreasing). */
  #streamPosition48k = 0;
  #started = false;
  #lastTransit: number | undefined;
  #jitter = 0; // in 48 kHz units
  #closed = false;
  readonly stats: RtpAudioStats = {
    packets: 0, lostPackets: 0, concealedMs: 0, late: 0, duplicates: 0, malformed: 0, decodeErrors: 0, dtxMs: 0,
    jitterMs: 0, lossRate: 0,
  };

  constructor(options: { reorderMs?: number } = {}) {
    super();
    this.#reorderMs = options.reorderMs ?? 40;
  }

  /** One RTP packet as received (raw bytes). */
  push(raw: Buffer, nowMs: number): void {
    if (this.#closed) return;
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(raw);
    } catch (error) {
      if (error instanceof RtpParseError) {
        this.stats.malformed += 1;
        return;
      }
      throw error;
    }
    this.stats.packets += 1;
    this.#updateJitter(packet.timestamp, nowMs);
    if (!this.#started) {
      this.#started = true;
      this.#nextSeq = packet.sequenceNumber;
      this.#nextTimestamp = packet.timestamp;
    }
    const rel = seqDiff(packet.sequenceNumber, this.#nextSeq!);
    if (rel < 0) {
      this.stats.late += 1;
      return;
    }
    if (this.#held.has(packet.sequenceNumber)) {
      this.stats.duplicates += 1;
      return;
    }
    this.#held.set(packet.sequenceNumber, { packet, arrivalMs: nowMs });
    this.#drain(nowMs);
  }

  /** Releases held packets whose gap has waited longer than the reorder window. */
  tick(nowMs: number): void {
    if (!this.#closed) this.#drain(nowMs);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held.clear();
    this.#decoder.close();
    this.removeAllListeners();
  }

  #drain(nowMs: number): void {
    for (;;) {
      if (this.#nextSeq === undefined) return;
      const next = this.#held.get(this.#nextSeq);
      if (next) {
        this.#held.delete(this.#nextSeq);
        this.#play(next);
        this.#nextSeq = (this.#nextSeq + 1) & 0xffff;
        continue;
      }
      if (this.#held.size === 0) return;
      // A gap: wait for it until the oldest held packet is older than the reorder window.
      let oldest = Infinity;
      let firstSeq = -1;
      let firstRel = Infinity;
      for (const [seq, h] of this.#held) {
        oldest = Math.min(oldest, h.arrivalMs);
        const rel = seqDiff(seq, this.#nextSeq);
        if (rel < firstRel) {
          firstRel = rel;
          firstSeq = seq;
        }
      }
      if (nowMs - oldest < this.#reorderMs) return;
      this.stats.lostPackets += firstRel;
      this.#nextSeq = firstSeq;
      // the lost stretch is concealed when the next packet plays (timestamp gap below)
      this.#pendingLoss = true;
    }
  }

  #pendingLoss = false;

  #play({ packet, arrivalMs }: Held): void {
    const gap = timestampDiff(packet.timestamp, this.#nextTimestamp);
    if (gap > 0) {
      // the first second of the gap as PCM; the clock jumps over the rest (MAX_GAP_FILL_48K)
      const fill = Math.min(gap, MAX_GAP_FILL_48K);
      const chunk = this.#pendingLoss ? this.#decoder.conceal(fill) : this.#decoder.silence(fill);
      const ms = (gap / OPUS_RATE) * 1000;
      if (this.#pendingLoss) this.stats.concealedMs += ms;
      else this.stats.dtxMs += ms;
      this.#emit(chunk, arrivalMs, this.#pendingLoss ? 'concealed' : 'silence');
      this.#streamPosition48k += gap;
    }
    this.#pendingLoss = false;
    // a gap is now behind us; a timestamp that went back (a restarted sender) is taken as the
    // new reference while the stream clock carries on forward
    this.#nextTimestamp = packet.timestamp;
    let pcm: Float32Array;
    try {
      pcm = this.#decoder.decode(packet.payload);
    } catch {
      this.stats.decodeErrors += 1;
      pcm = this.#decoder.conceal(960);
    }
    this.#emit(pcm, arrivalMs, 'decoded');
    this.#nextTimestamp = (this.#nextTimestamp + pcm.length * RATE_RATIO) >>> 0;
    this.#streamPosition48k += pcm.length * RATE_RATIO;
    const expected = this.stats.packets - this.stats.duplicates - this.stats.late + this.stats.lostPackets;
    this.stats.lossRate = expected > 0 ? this.stats.lostPackets / expected : 0;
  }

  /** Emits `samples` as starting at the stream's current position. */
  #emit(samples: Float32Array, arrivalMs: number, kind: PcmChunk['kind']): void {
    if (samples.length === 0) return;
    const startSample = Math.round(this.#streamPosition48k / RATE_RATIO);
    this.safeEmit('pcm', { samples, startSample, arrivalMs, kind });
  }

  #updateJitter(timestamp: number, nowMs: number): void {
    const arrival = (nowMs / 1000) * OPUS_RATE;
    const transit = arrival - timestamp;
    if (this.#lastTransit !== undefined) {
      let d = Math.abs(transit - this.#lastTransit);
      if (d > OPUS_RATE * 10) d = 0; // timestamp wrap or sender restart
      this.#jitter += (d - this.#jitter) / 16;
      this.stats.jitterMs = (this.#jitter / OPUS_RATE) * 1000;
    }
    this.#lastTransit = transit;
  }
}
