/**
 * Silero VAD v5 (the ONNX shipped in @ricky0123/vad-web's dist, MIT) in onnxruntime-node:
 * 512-sample frames (32 ms) of 16 kHz audio -> speech probability, recurrent state kept between
 * frames. `SpeechGate` turns probabilities into a speaking/silent decision with hysteresis.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

export const VAD_FRAME = 512;
const require = createRequire(import.meta.url);

/** Path of the Silero v5 ONNX inside the installed @ricky0123/vad-web package. */
export function sileroModelPath(): string {
  return path.join(path.dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist', 'silero_vad_v5.onnx');
}

export class SileroVad {
  readonly #session: ort.InferenceSession;
  #state = new Float32Array(2 * 1 * 128);
  readonly #sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  #pending = new Float32Array(0);
  #closed = false;

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
  }

  static async create(modelPath = sileroModelPath()): Promise<SileroVad> {
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new SileroVad(session);
  }

  /** One 512-sample frame -> speech probability in [0,1]. */
  async frame(samples: Float32Array): Promise<number> {
    if (samples.length !== VAD_FRAME) throw new Error(`Silero VAD takes ${VAD_FRAME}-sample frames`);
    if (this.#closed) throw new Error('SileroVad is closed');
    const out = await this.#session.run({
      input: new ort.Tensor('float32', samples, [1, VAD_FRAME]),
      state: new ort.Tensor('float32', this.#state, [2, 1, 128]),
      sr: this.#sr,
    });
    this.#state = new Float32Array(out['stateN']!.data as Float32Array);
    return (out['output']!.data as Float32Array)[0]!;
  }

  /** Any number of samples -> one probability per completed 512-sample frame (the rest is kept). */
  async push(samples: Float32Array): Promise<number[]> {
    const buf = new Float32Array(this.#pending.length + samples.length);
    buf.set(this.#pending);
    buf.set(samples, this.#pending.length);
    const probs: number[] = [];
    let off = 0;
    for (; off + VAD_FRAME <= buf.length; off += VAD_FRAME) probs.push(await this.frame(buf.subarray(off, off + VAD_FRAME)));
    this.#pending = buf.slice(off);
    return probs;
  }

  reset(): void {
    this.#state = new Float32Array(2 * 128);
    this.#pending = new Float32Array(0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}

/**
 * Speaking/silent with hysteresis: starts when p >= `on` (0.5), ends after `hangoverMs` (250 ms)
 * of p < `off` (0.35), as Silero's own VAD iterator does.
 */
export class SpeechGate {
  speaking = false;
  #belowMs = 0;
  constructor(readonly on = 0.5, readonly off = 0.35, readonly hangoverMs = 250) {}

  update(prob: number, frameMs: number): boolean {
    if (prob >= this.on) {
      this.speaking = true;
      this.#belowMs = 0;
    } else if (prob < this.off && this.speaking) {
      this.#belowMs += frameMs;
      if (this.#belowMs >= this.hangoverMs) this.speaking = false;
    }
    return this.speaking;
  }
}
