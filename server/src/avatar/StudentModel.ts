/**
 * One identity's student (`student.onnx`), loaded once into its own render worker thread
 * (renderWorker.mjs: one onnxruntime InferenceSession, explicit thread counts, pre-allocated
 * tensors) and shared by every AvatarSession that renders that identity. Frames are requested
 * with `render(landmarks)`; the worker runs up to `concurrentRuns` of them at once (each on its
 * own pre-allocated tensor pair, so sessions never see each other's frames), off the main loop.
 *
 * A worker that crashes is restarted after `restartDelayMs` (the model is reloaded, `restarted`
 * is emitted); renders asked meanwhile fail with `StudentUnavailableError`, so sessions keep
 * their last frame and resume on the next tick. `close()` (from StudentModelRegistry, when the
 * last session lets go) releases the session and ends the thread.
 *
 * Shapes: landmarks float32 478*3 (normalised to the identity's image) → frame uint8 S*S*3 RGB.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { STUDENT_INPUT_NAME, STUDENT_OUTPUT_NAME, type StudentManifest } from '@shared/student/studentManifest';
import type { Logger } from '../logger';
import { TypedEmitter } from '../util/TypedEmitter';
import type { ExecutionProvider } from './avatarConfig';

export class StudentLoadError extends Error {
  override readonly name = 'StudentLoadError';
}

/** The worker is (re)starting or gone: no frame this time. */
export class StudentUnavailableError extends Error {
  override readonly name = 'StudentUnavailableError';
}

export interface StudentModelOptions {
  modelPath: string;
  manifest: StudentManifest;
  executionProvider: ExecutionProvider;
  intraOpThreads: number;
  interOpThreads: number;
  /** Runs in flight at once on the one session (each on its own pre-allocated tensors). */
  concurrentRuns: number;
  restartDelayMs: number;
  logger: Logger;
}

export type StudentModelEvents = {
  /** The worker died unexpectedly (exit code). */
  crashed: [number];
  /** A replacement worker loaded the model. */
  restarted: [];
  close: [];
};

export interface RenderedFrame {
  /** S*S*3 RGB. */
  frame: Uint8Array;
  /** Time inside onnxruntime (ms). */
  inferenceMs: number;
  /** From the request to the answer on the main thread (ms): queueing + transfer + inference. */
  roundTripMs: number;
}

type Pending = { resolve: (r: RenderedFrame) => void; reject: (e: Error) => void; startedMs: number };

const WORKER_URL = new URL('./renderWorker.mjs', import.meta.url);

export class StudentModel extends TypedEmitter<StudentModelEvents> {
  readonly modelPath: string;
  readonly outputSize: number;
  readonly #options: StudentModelOptions;
  readonly #log: Logger;
  readonly #warmup: Float32Array;
  #worker: Worker | undefined;
  #ready = false;
  #closed = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #restartTimer: NodeJS.Timeout | undefined;
  /** Workers started after a crash. */
  restarts = 0;
  warmupMs = 0;

  private constructor(options: StudentModelOptions) {
    super();
    this.#options = options;
    this.modelPath = options.modelPath;
    this.outputSize = options.manifest.model.outputSize;
    this.#log = options.logger.child({ component: 'StudentModel', modelPath: options.modelPath });
    this.#warmup = Float32Array.from(options.manifest.identity.neutralLandmarks);
  }

  /** Starts the worker and loads the model; throws StudentLoadError with the runtime's reason. */
  static async load(options: StudentModelOptions): Promise<StudentModel> {
    const model = new StudentModel(options);
    await model.#start();
    return model;
  }

  get ready(): boolean {
    return this.#ready;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Renders one frame; rejects with StudentUnavailableError while the worker restarts. */
  render(landmarks: Float32Array): Promise<RenderedFrame> {
    const worker = this.#worker;
    if (this.#closed || !this.#ready || !worker) return Promise.reject(new StudentUnavailableError('render worker not ready'));
    const id = this.#nextId++;
    return new Promise<RenderedFrame>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, startedMs: performance.now() });
      worker.postMessage({ type: 'run', id, landmarks });
    });
  }

  /** Test hook: makes the worker thread exit as if it crashed. */
  crashForTest(): void {
    this.#worker?.postMessage({ type: 'crash' });
  }

  /** Idempotent: rejects pending renders, releases the InferenceSession, ends the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    clearTimeout(this.#restartTimer);
    this.#failPending(new StudentUnavailableError('student model closed'));
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      const exited = once(worker, 'exit');
      worker.postMessage({ type: 'dispose' });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }
    this.safeEmit('close');
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ err: error, event }, 'StudentModel listener threw');
  }

  async #start(): Promise<void> {
    const { manifest } = this.#options;
    const size = manifest.model.outputSize;
    const worker = new Worker(WORKER_URL, {
      workerData: {
        modelPath: this.#options.modelPath,
        inputName: STUDENT_INPUT_NAME,
        outputName: STUDENT_OUTPUT_NAME,
        executionProvider: this.#options.executionProvider,
        intraOpThreads: this.#options.intraOpThreads,
        interOpThreads: this.#options.interOpThreads,
        landmarkFloats: 478 * 3,
        outputBytes: size * size * 3,
        concurrentRuns: this.#options.concurrentRuns,
      },
    });
    this.#worker = worker;
    const loaded = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === 'loaded') {
          this.warmupMs = message.warmupMs;
          resolve();
        } else if (message.type === 'loadError') {
          reject(new StudentLoadError(`cannot load ${this.#options.modelPath}: ${message.message}`));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (error) => reject(new StudentLoadError(`render worker failed: ${error.message}`, { cause: error })));
      worker.once('exit', (code) => reject(new StudentLoadError(`render worker exited (code ${code}) while loading`)));
    });
    worker.on('message', (message: WorkerMessage) => this.#onMessage(message));
    worker.on('error', (error) => this.#log.error({ err: error }, 'render worker error'));
    worker.on('exit', (code) => this.#onExit(worker, code));
    worker.postMessage({ type: 'load', warmup: this.#warmup });
    try {
      await loaded;
    } catch (error) {
      this.#worker = undefined;
      await worker.terminate();
      throw error;
    }
    this.#ready = true;
    this.#log.info({ warmupMs: Math.round(this.warmupMs), ep: this.#options.executionProvider, threads: this.#options.intraOpThreads }, 'student model loaded');
  }

  #onMessage(message: WorkerMessage): void {
    if (message.type !== 'result' && message.type !== 'runError') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.type === 'runError') {
      pending.reject(new Error(`inference failed: ${message.message}`));
      return;
    }
    pending.resolve({ frame: message.frame, inferenceMs: message.inferenceMs, roundTripMs: performance.now() - pending.startedMs });
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker || this.#closed) return;
    this.#worker = undefined;
    this.#ready = false;
    this.#failPending(new StudentUnavailableError(`render worker exited (code ${code})`));
    this.#log.error({ code }, 'render worker crashed; restarting');
    this.safeEmit('crashed', code);
    this.#restartTimer = setTimeout(() => void this.#restart(), this.#options.restartDelayMs);
  }

  async #restart(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#start();
      this.restarts += 1;
      if (this.#closed) return;
      this.safeEmit('restarted');
    } catch (error) {
      this.#log.error({ err: error }, 'render worker restart failed; retrying');
      if (!this.#closed) this.#restartTimer = setTimeout(() => void this.#restart(), Math.max(500, this.#options.restartDelayMs));
    }
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

type WorkerMessage =
  | { type: 'loaded'; warmupMs: number; outputPreallocated: boolean }
  | { type: 'loadError'; message: string }
  | { type: 'result'; id: number; frame: Uint8Array; inferenceMs: number }
  | { type: 'runError'; id: number; message: string };
