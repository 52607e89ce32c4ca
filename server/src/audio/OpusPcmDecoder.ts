/**
 * Opus packets -> 16 kHz mono float PCM (opusscript, libopus compiled to WebAssembly, decoding at
 * 48 kHz mono; stereo packets are down-mixed by libopus), then `Decimator` to 16 kHz.
 * `conceal(samples48k)` runs libopus's packet-loss concealment for a lost stretch.
 */
import OpusScript from 'opusscript';
import { Decimator } from './Decimator';

export const OPUS_RATE = 48000;
/** libopus conceals at most this many 48 kHz samples per call (60 ms, opusscript's frame size). */
const PLC_CHUNK = 2880;

export class OpusPcmDecoder {
  #opus: OpusScript | undefined = new OpusScript(OPUS_RATE, 1, OpusScript.Application.VOIP);
  readonly #decimator = new Decimator();

  /** One Opus packet -> 16 kHz samples (throws on a corrupt packet; the decoder stays usable). */
  decode(packet: Buffer): Float32Array {
    const pcm = this.#live().decode(packet);
    return this.#decimator.process(int16ToFloat(pcm));
  }

  /**
   * Packet-loss concealment for `samples48k` lost samples: libopus's PLC for the first 60 ms of a
   * gap, silence after that (PLC fades out anyway). Returns 16 kHz samples.
   */
  conceal(samples48k: number): Float32Array {
    const out = new Float32Array(samples48k);
    if (samples48k > 0) {
      const plc = int16ToFloat(this.#live().decode(Buffer.alloc(0)));
      out.set(plc.subarray(0, Math.min(samples48k, plc.length, PLC_CHUNK)));
    }
    return this.#decimator.process(out);
  }

  /** Silence of `samples48k` samples (DTX, muted stretch), through the same filter state. */
  silence(samples48k: number): Float32Array {
    return this.#decimator.process(new Float32Array(samples48k));
  }

  /** Idempotent. */
  close(): void {
    this.#opus?.delete();
    this.#opus = undefined;
  }

  #live(): OpusScript {
    if (!this.#opus) throw new Error('OpusPcmDecoder is closed');
    return this.#opus;
  }
}

function int16ToFloat(buf: Buffer): Float32Array {
  const n = buf.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(2 * i) / 32768;
  return out;
}
