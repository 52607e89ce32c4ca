/**
 * Measurement from a listener's seat (tests, diagnostics): the loudness of a track as it plays,
 * with times that do not depend on the main thread's timers. An AudioWorklet sums the squares of
 * every 128-sample render quantum and posts one block every 480 samples (10 ms at 48 kHz) with the
 * context frame of its first sample; the page maps that frame to the time it is heard through the
 * context's output timestamps (`getOutputTimestamp()`: a context time and the performance time at
 * which the output device plays it), so a busy page delays the messages, not the times.
 *
 * Times are epoch ms (performance.timeOrigin + performance time), comparable with the
 * `presentationTime` of requestVideoFrameCallback on the same page.
 */

export interface PlayoutBlock {
  /** When the block's first sample is heard (epoch ms). */
  heardAtMs: number;
  /** RMS of the block (full scale 1). */
  rms: number;
  /** Samples in the block. */
  samples: number;
}

const WORKLET = `
class PlayoutRms extends AudioWorkletProcessor {
  constructor() { super(); this.sum = 0; this.n = 0; this.start = -1; }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      if (this.start < 0) this.start = currentFrame;
      for (let i = 0; i < channel.length; i++) this.sum += channel[i] * channel[i];
      this.n += channel.length;
      if (this.n >= 480) {
        this.port.postMessage({ frame: this.start, n: this.n, rms: Math.sqrt(this.sum / this.n) });
        this.sum = 0; this.n = 0; this.start = -1;
      }
    }
    return true;
  }
}
registerProcessor('playout-rms', PlayoutRms);
`;

export class AudioPlayoutRecorder {
  readonly blocks: PlayoutBlock[] = [];
  readonly #context: AudioContext;
  #stopped = false;

  /** Starts recording `track` as this page plays it. Rejects when the worklet cannot load. */
  static async start(track: MediaStreamTrack): Promise<AudioPlayoutRecorder> {
    const context = new AudioContext();
    const url = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
    try {
      await context.audioWorklet.addModule(url);
    } catch (error) {
      await context.close().catch(() => undefined);
      throw error;
    } finally {
      URL.revokeObjectURL(url);
    }
    return new AudioPlayoutRecorder(context, track);
  }

  private constructor(context: AudioContext, track: MediaStreamTrack) {
    this.#context = context;
    const source = context.createMediaStreamSource(new MediaStream([track]));
    // no outputs: an automatically pulled node, nothing reaches the speakers twice
    const node = new AudioWorkletNode(context, 'playout-rms', { numberOfInputs: 1, numberOfOutputs: 0 });
    source.connect(node);
    node.port.onmessage = (event: MessageEvent<{ frame: number; n: number; rms: number }>) => {
      if (this.#stopped) return;
      const { frame, n, rms } = event.data;
      this.blocks.push({ heardAtMs: this.#heardAt(frame / context.sampleRate), rms, samples: n });
    };
    void context.resume().catch(() => undefined);
  }

  /** Epoch ms at which context time `t` (s) is heard. */
  #heardAt(t: number): number {
    const stamp = this.#context.getOutputTimestamp();
    if (stamp.contextTime !== undefined && stamp.performanceTime !== undefined && stamp.performanceTime > 0) {
      return performance.timeOrigin + stamp.performanceTime + (t - stamp.contextTime) * 1000;
    }
    // no output timestamp (yet): the render clock now, plus the output latency the context reports
    const latency = (this.#context.outputLatency || 0) + (this.#context.baseLatency || 0);
    return performance.timeOrigin + performance.now() + (t - this.#context.currentTime + latency) * 1000;
  }

  /** Idempotent: stops and returns the recorded blocks. */
  stop(): PlayoutBlock[] {
    if (!this.#stopped) {
      this.#stopped = true;
      void this.#context.close().catch(() => undefined);
    }
    return this.blocks;
  }
}
