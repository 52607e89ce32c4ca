/**
 * 48 kHz -> 16 kHz resampling for the audio tap: a windowed-sinc low-pass FIR (cut-off 7.2 kHz,
 * 48 taps, Blackman window) evaluated at every third input sample. Stateful across chunks, so a
 * stream cut into packets resamples exactly like the whole signal.
 */

const FACTOR = 3;
const TAPS = 48;

function designLowPass(): Float32Array {
  const h = new Float32Array(TAPS);
  const fc = 7200 / 48000;
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let n = 0; n < TAPS; n++) {
    const x = n - mid;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (TAPS - 1));
    h[n] = sinc * w;
    sum += h[n]!;
  }
  for (let n = 0; n < TAPS; n++) h[n]! /= sum;
  return h;
}

const FILTER = designLowPass();

export class Decimator {
  /** The last TAPS-1 input samples (history), then new input. */
  #history = new Float32Array(TAPS - 1);
  /** Input samples to skip before the next output (keeps the phase across chunks). */
  #phase = 0;

  /** Group delay of the filter in output (16 kHz) samples. */
  static readonly delaySamples16k = (TAPS - 1) / 2 / FACTOR;

  /** 48 kHz samples in, 16 kHz samples out (about a third as many). */
  process(input: Float32Array): Float32Array {
    const buf = new Float32Array(this.#history.length + input.length);
    buf.set(this.#history);
    buf.set(input, this.#history.length);
    const out: number[] = [];
    let i = this.#phase;
    for (; i < input.length; i += FACTOR) {
      // output aligned with input sample i (the newest sample in the window)
      let acc = 0;
      const end = i + TAPS - 1;
      for (let k = 0; k < TAPS; k++) acc += FILTER[k]! * buf[end - k]!;
      out.push(acc);
    }
    this.#phase = i - input.length;
    this.#history = buf.slice(buf.length - (TAPS - 1));
    return Float32Array.from(out);
  }

  reset(): void {
    this.#history.fill(0);
    this.#phase = 0;
  }
}
