/**
 * One identity's student (`student.onnx`), shared by every AvatarSession that renders that
 * identity, run off the main event loop in render worker threads (renderWorker.mjs: one
 * onnxruntime InferenceSession each, explicit thread counts, pre-allocated tensors).
 *
 * Why more than one worker: onnxruntime-node's `session.run()` executes synchronously on the
 * calling thread (its promise only defers the native call), so one InferenceSession renders one
 * frame at a time on at most one core, however many runs are "in flight" (measured: two
 * concurrent runs on one session cost the same wall time as two sequential ones). So the model
 * starts with one worker (one InferenceSession) and gains another, up to `workersPerModel`, each
 * time one more session shares it (`setDemand`, from StudentModelRegistry); a frame goes to the
 * ready worker with the fewest frames queued. When fewer sessions share it again, idle workers
 * beyond the demand are retired (never the last one).
 *
 * A worker that crashes is restarted after `restartDelayMs` (its model reloaded, `restarted`
 * emitted); its queued renders fail with `StudentUnavailableError` and, while no worker is ready,
 * new ones do too, so sessions keep their last frame and resume on the next tick. `close()`
 * (from StudentModelRegistry, when the last session lets go) releases every InferenceSession and
 * ends the threads.
 *
 * Shapes: landmarks float32 478*3 (normalised to the identity's image) → frame uint8 S*S*3 RGB.
 */
import { Worker } from 'node:worker_threads';
import { STUDENT_INPUT_NAME, STUDENT_OUTPUT_NAME, type StudentManifest } from '@shared/student/studentManifest';
import type { Logger } from '../logger';
import { TypedEmitter } from '../util/TypedEmitter';
import type { ExecutionProvider, StudentPrecision } from './avatarConfig';

export class StudentLoadError extends Error {
  override readonly name = 'StudentLoadError';
}

/** No worker is ready (restarting, or the model closed): no frame this time. */
export class StudentUnavailableError extends Error {
  override readonly name = 'StudentUnavailableError';
}

export interface StudentModelOptions {
  modelPath: string;
  /** Which variant `modelPath` is (studentFile.ts). */
  precision: StudentPrecision;
  manifest: StudentManifest;
  executionProvider: ExecutionProvider;
  intraOpThreads: number;
  interOpThreads: number;
  /** Most render workers (InferenceSessions) for this model; one per session sharing it, up to this. */
  workersPerModel: number;
  restartDelayMs: number;
  logger: Logger;
}

export type StudentModelEvents = {
  /** A worker died unexpectedly (exit code). */
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
  readonly precision: StudentPrecision;
  readonly outputSize: number;
  readonly #options: StudentModelOptions;
  readonly #log: Logger;
  readonly #lanes: RenderLane[] = [];
  #demand = 1;
  #growing: Promise<void> | undefined;
  #closed = false;
  /** Workers started after a crash (all workers together). */
  restarts = 0;
  /** The first worker's warm-up inference (ms). */
  warmupMs = 0;

  private constructor(options: StudentModelOptions) {
    super();
    this.#options = options;
    this.modelPath = options.modelPath;
    this.precision = options.precision;
    this.outputSize = options.manifest.model.outputSize;
    this.#log = options.logger.child({ component: 'StudentModel', modelPath: options.modelPath, precision: options.precision });
  }

  /** Starts the first worker and loads the model; throws StudentLoadError with the runtime's reason. */
  static async load(options: StudentModelOptions): Promise<StudentModel> {
    const model = new StudentModel(options);
    const lane = model.#newLane();
    await lane.start();
    model.warmupMs = lane.warmupMs;
    return model;
  }

  /** Some worker can take a frame. */
  get ready(): boolean {
    return !this.#closed && this.#lanes.some((l) => l.ready);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Render workers (InferenceSessions) running now. */
  get workers(): number {
    return this.#lanes.length;
  }

  /**
   * How many sessions share the model: grows the pool to min(holders, workersPerModel) workers,
   * in the background (renders go to the workers already loaded meanwhile). A worker that fails
   * to load is logged and not retried until the demand grows again.
   */
  setDemand(holders: number): void {
    this.#demand = holders;
    this.#shrink();
    if (!this.#growing) this.#growing = this.#grow().finally(() => (this.#growing = undefined));
  }

  /** Renders one frame on the least-busy ready worker; rejects with StudentUnavailableError when none is ready. */
  render(landmarks: Float32Array): Promise<RenderedFrame> {
    let best: RenderLane | undefined;
    for (const lane of this.#lanes) if (lane.ready && (!best || lane.queued < best.queued)) best = lane;
    if (this.#closed || !best) return Promise.reject(new StudentUnavailableError('render worker not ready'));
    return best.render(landmarks);
  }

  /** Test hook: makes the first worker thread exit as if it crashed. */
  crashForTest(): void {
    this.#lanes[0]?.crashForTest();
  }

  /** Idempotent: rejects pending renders, releases every InferenceSession, ends the threads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#lanes.map((l) => l.close()));
    this.safeEmit('close');
    this.removeAllListeners();
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ err: error, event }, 'StudentModel listener threw');
  }

  #newLane(): RenderLane {
    const lane = new RenderLane(this.#options, this.#log.child({ worker: this.#lanes.length }), {
      crashed: (code) => this.safeEmit('crashed', code),
      restarted: () => {
        this.restarts += 1;
        this.safeEmit('restarted');
      },
    });
    this.#lanes.push(lane);
    return lane;
  }

  /**
   * Retires the workers beyond the demand (the newest first, never the first one) once they are
   * loaded and idle; a busy or loading one stays until the next change of demand or load.
   */
  #shrink(): void {
    const wanted = Math.max(1, Math.min(this.#demand, this.#options.workersPerModel));
    for (let i = this.#lanes.length - 1; i >= wanted; i -= 1) {
      const lane = this.#lanes[i] as RenderLane;
      if (!lane.ready || lane.queued > 0) continue;
      this.#lanes.splice(i, 1);
      void lane.close();
    }
  }

  async #grow(): Promise<void> {
    while (!this.#closed && this.#lanes.length < Math.min(this.#demand, this.#options.workersPerModel)) {
      const lane = this.#newLane();
      try {
        await lane.start();
        if (this.#closed) await lane.close();
        else this.#shrink(); // the demand may have fallen while it loaded
      } catch (error) {
        this.#lanes.splice(this.#lanes.indexOf(lane), 1);
        this.#log.warn({ err: error }, 'extra render worker failed to load; staying with fewer');
        return;
      }
    }
  }
}

type LaneEvents = { crashed: (code: number) => void; restarted: () => void };

/** One render worker thread with its InferenceSession, its queued renders and its restarts. */
class RenderLane {
  readonly #options: StudentModelOptions;
  readonly #log: Logger;
  readonly #events: LaneEvents;
  readonly #warmup: Float32Array;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #ready = false;
  #closed = false;
  #nextId = 1;
  #restartTimer: NodeJS.Timeout | undefined;
  warmupMs = 0;

  constructor(options: StudentModelOptions, log: Logger, events: LaneEvents) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#warmup = Float32Array.from(options.manifest.identity.neutralLandmarks);
  }

  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  /** Renders sent and not yet answered. */
  get queued(): number {
    return this.#pending.size;
  }

  render(landmarks: Float32Array): Promise<RenderedFrame> {
    const worker = this.#worker;
    if (!this.ready || !worker) return Promise.reject(new StudentUnavailableError('render worker not ready'));
    const id = this.#nextId++;
    return new Promise<RenderedFrame>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, startedMs: performance.now() });
      worker.postMessage({ type: 'run', id, landmarks });
    });
  }

  crashForTest(): void {
    this.#worker?.postMessage({ type: 'crash' });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    clearTimeout(this.#restartTimer);
    this.#failPending(new StudentUnavailableError('student model closed'));
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      // Only 'exit' ends the wait: events.once would reject on an 'error' the worker emits while
      // disposing, and the close (and its model's close with it) would fail half done.
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'dispose' });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Starts the thread and loads the model; throws StudentLoadError with the runtime's reason. */
  async start(): Promise<void> {
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
    this.#log.info({ warmupMs: Math.round(this.warmupMs), ep: this.#options.executionProvider, threads: this.#options.intraOpThreads }, 'render worker loaded the student');
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
    this.#events.crashed(code);
    this.#restartTimer = setTimeout(() => void this.#restart(), this.#options.restartDelayMs);
  }

  async #restart(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.start();
      if (this.#closed) return;
      this.#events.restarted();
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
