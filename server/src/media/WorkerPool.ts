/**
 * One mediasoup Worker per core. A worker that dies is logged, counted, announced with
 * `workerDied` (the room registry closes its rooms) and replaced; `workerReplaced` fires when
 * the new one is up. The pool never shrinks on its own: a failed replacement is retried.
 */
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { Gauge } from 'prom-client';
import type { Logger } from '../logger';
import type { ServerMetrics } from '../metrics/ServerMetrics';
import { TypedEmitter } from '../util/TypedEmitter';

export type WorkerPoolOptions = {
  numWorkers: number;
  logLevel: ms.WorkerLogLevel;
  restartDelayMs: number;
  logger: Logger;
  metrics: ServerMetrics;
};

export type WorkerPoolEvents = {
  workerDied: [{ worker: ms.Worker; error: Error }];
  workerReplaced: [{ diedPid: number; worker: ms.Worker }];
};

export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #workers = new Set<ms.Worker>();
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super();
    this.#options = options;
    this.#log = options.logger.child({ component: 'WorkerPool' });
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.numWorkers }, () => pool.#spawn()));
    } catch (error) {
      pool.close();
      throw error;
    }
    pool.#registerCpuMetric();
    return pool;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live workers, in start order. */
  get workers(): readonly ms.Worker[] {
    return [...this.#workers];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const worker of this.#workers) worker.close();
    this.#workers.clear();
    this.#options.metrics.workers.set(0);
    this.#log.debug('closed');
  }

  async #spawn(): Promise<ms.Worker> {
    const worker = await mediasoup.createWorker({ logLevel: this.#options.logLevel });
    if (this.#closed) {
      worker.close();
      throw new Error('worker pool closed while a worker was starting');
    }
    this.#workers.add(worker);
    this.#options.metrics.workers.set(this.#workers.size);
    worker.on('died', (error) => this.#onDied(worker, error));
    worker.observer.on('close', () => {
      this.#workers.delete(worker);
      if (!this.#closed) this.#options.metrics.workers.set(this.#workers.size);
    });
    this.#log.info({ pid: worker.pid }, 'mediasoup worker started');
    return worker;
  }

  #onDied(worker: ms.Worker, error: Error): void {
    this.#workers.delete(worker);
    if (this.#closed) return;
    this.#options.metrics.workerDeaths.inc();
    this.#options.metrics.workers.set(this.#workers.size);
    this.#log.error({ pid: worker.pid, err: error }, 'mediasoup worker died; replacing it');
    this.safeEmit('workerDied', { worker, error });
    void this.#replace(worker.pid, 0);
  }

  async #replace(diedPid: number, attempt: number): Promise<void> {
    if (this.#closed) return;
    try {
      const replacement = await this.#spawn();
      this.#log.info({ diedPid, pid: replacement.pid }, 'replacement mediasoup worker up');
      this.safeEmit('workerReplaced', { diedPid, worker: replacement });
    } catch (error) {
      if (this.#closed) return;
      this.#log.error({ diedPid, attempt, err: error }, 'could not start a replacement worker; retrying');
      const timer = setTimeout(() => {
        this.#restartTimers.delete(timer);
        void this.#replace(diedPid, attempt + 1);
      }, this.#options.restartDelayMs * Math.min(2 ** attempt, 30));
      this.#restartTimers.add(timer);
    }
  }

  /** CPU time per worker (from the worker's getrusage), read when /metrics is scraped. */
  #registerCpuMetric(): void {
    const pool = this;
    new Gauge({
      name: 'avatar_mediasoup_worker_cpu_seconds',
      help: 'CPU time (user + system) used by each live mediasoup worker',
      labelNames: ['pid'] as const,
      registers: [this.#options.metrics.registry],
      async collect() {
        this.reset();
        await Promise.all(
          pool.workers.map(async (worker) => {
            const usage = await worker.getResourceUsage().catch(() => undefined);
            if (usage) this.set({ pid: String(worker.pid) }, (usage.ru_utime + usage.ru_stime) / 1000);
          }),
        );
      },
    });
  }

  protected override onListenerError(event: string, error: unknown): void {
    this.#log.error({ event, err: error }, 'WorkerPool listener threw');
  }
}
