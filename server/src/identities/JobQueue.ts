/**
 * The embedded training queue: jobs live in the registry database (`JobStore`), and up to
 * `concurrency` of them run at once in this process, each as a `TrainingProcess`. Jobs are taken
 * in creation order. A job whose runner is gone (the server was killed, or closed while it ran)
 * goes back to the head of the queue and resumes from its checkpoint (`--resume`); a leftover
 * training process of a dead server is stopped first, so a job never runs twice at once.
 *
 * Events: `job` (JobStatus) on every change, for the live job view (SSE).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { JobStatus } from '@shared/onboarding';
import type { TrainingEvent } from '@shared/student';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { TypedEmitter } from '../util/TypedEmitter';
import type { IdentityRegistry } from './IdentityRegistry';
import { readStudentDir } from './IdentityRegistry';
import type { JobRow } from './JobStore';
import { processAlive, processStartTime, trainCommand } from './pythonCommand';
import { RegistryError } from './RegistryError';
import { killGroup, TrainingProcess, type TrainingExit } from './TrainingProcess';

export type JobQueueEvents = { job: [JobStatus] };

/** Runner ids of the queues alive in this process (several servers may share one in tests). */
const liveRunners = new Set<string>();

type Active = { job: JobRow; process: TrainingProcess | undefined; cancelled: boolean; lastError: TrainingEvent | undefined };

export class JobQueue extends TypedEmitter<JobQueueEvents> {
  readonly runner: string;
  readonly #registry: IdentityRegistry;
  readonly #config: Config['onboarding'];
  readonly #log: Logger;
  readonly #active = new Map<string, Active>();
  readonly #running = new Set<Promise<void>>();
  #closed = false;
  #started = false;

  constructor(options: { registry: IdentityRegistry; config: Config['onboarding']; logger: Logger }) {
    super();
    this.#registry = options.registry;
    this.#config = options.config;
    this.#log = options.logger.child({ component: 'jobs' });
    this.runner = `${process.pid}:${processStartTime(process.pid) ?? '0'}:${randomBytes(4).toString('hex')}`;
  }

  /** Recovers jobs orphaned by a dead runner, then starts taking jobs. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    liveRunners.add(this.runner);
    this.#recover();
    this.pump();
  }

  get activeJobIds(): string[] {
    return [...this.#active.keys()];
  }

  hasActiveJob(identityId: string): boolean {
    return this.#registry.jobs.list({ identityId, states: ['queued', 'running'] }).length > 0;
  }

  status(jobId: string): JobStatus {
    const row = this.#registry.jobs.get(jobId);
    if (!row) throw new RegistryError(404, 'JOB_NOT_FOUND', `job "${jobId}" does not exist`);
    return this.#registry.jobs.status(row);
  }

  /** Latest preview PNG of a job (absolute path) or undefined. */
  previewPath(jobId: string): string | undefined {
    const row = this.#registry.jobs.get(jobId);
    if (!row?.preview) return undefined;
    const path = this.#registry.layout.abs(row.preview);
    return existsSync(path) ? path : undefined;
  }

  /** Queued → cancelled at once; running → its process is stopped and the job ends `cancelled`. */
  cancel(jobId: string, actor: string): JobStatus {
    const row = this.#registry.jobs.get(jobId);
    if (!row) throw new RegistryError(404, 'JOB_NOT_FOUND', `job "${jobId}" does not exist`);
    if (this.#registry.jobs.cancelQueued(jobId)) {
      this.#registry.audit(actor, 'job.cancel', row.identity_id, { jobId });
      this.#emit(jobId);
      return this.status(jobId);
    }
    const active = this.#active.get(jobId);
    if (row.state === 'running' && active) {
      active.cancelled = true;
      active.process?.kill('SIGTERM');
      this.#registry.audit(actor, 'job.cancel', row.identity_id, { jobId });
      return this.status(jobId);
    }
    throw new RegistryError(409, 'JOB_NOT_CANCELLABLE', `job "${jobId}" is ${row.state}; only queued or running jobs can be cancelled`);
  }

  /** failed | cancelled → queued; it resumes from its checkpoint if it has one. */
  retry(jobId: string, actor: string): JobStatus {
    const row = this.#registry.jobs.get(jobId);
    if (!row) throw new RegistryError(404, 'JOB_NOT_FOUND', `job "${jobId}" does not exist`);
    if (!this.#registry.jobs.retry(jobId)) {
      throw new RegistryError(409, 'JOB_NOT_RETRYABLE', `job "${jobId}" is ${row.state}; only failed or cancelled jobs can be retried`);
    }
    this.#registry.audit(actor, 'job.retry', row.identity_id, { jobId });
    this.#emit(jobId);
    this.pump();
    return this.status(jobId);
  }

  /** Starts queued jobs while below the concurrency limit. */
  pump(): void {
    if (!this.#started || this.#closed) return;
    while (this.#active.size < this.#config.jobConcurrency) {
      const job = this.#registry.jobs.claimNext(this.runner);
      if (!job) return;
      const active: Active = { job, process: undefined, cancelled: false, lastError: undefined };
      this.#active.set(job.id, active);
      this.#emit(job.id);
      const run = this.#run(active)
        .catch((error: unknown) => {
          this.#log.error({ err: error, jobId: job.id }, 'job runner failed');
          this.#finish(active, { state: 'failed', error: { code: 'INTERNAL', message: `the job runner failed: ${String(error)}` } });
        })
        .finally(() => {
          this.#active.delete(job.id);
          this.#running.delete(run);
          this.pump();
        });
      this.#running.add(run);
    }
  }

  async #run(active: Active): Promise<void> {
    const { job } = active;
    const log = this.#log.child({ jobId: job.id, identityId: job.identity_id });
    const layout = this.#registry.layout;
    const out = layout.jobOut(job.id);
    const resume = existsSync(out) && readdirSync(out).length > 0;
    const command = trainCommand(this.#config.python, {
      source: this.#registry.sourcePath(job.identity_id),
      sourceKind: this.#registry.sourceKind(job.identity_id),
      out,
      resume,
    });
    log.info({ attempt: job.attempts, resume }, 'training started');
    const proc = await TrainingProcess.start(command, { logFile: layout.jobLog(job.id), niceness: this.#config.python.niceness });
    active.process = proc;
    this.#registry.jobs.setChild(job.id, this.runner, { pid: proc.pid, start: proc.startTime });
    if (this.#closed || active.cancelled) proc.kill('SIGTERM');
    let done: Extract<TrainingEvent, { event: 'done' }> | undefined;
    proc.on('event', (event) => {
      switch (event.event) {
        case 'progress': {
          const preview = event.preview ? this.#keepPreview(job.id, event.preview, out) : undefined;
          this.#registry.jobs.progress(job.id, this.runner, {
            stage: event.stage,
            step: event.step,
            total: event.total,
            overall: event.overall,
            etaS: event.eta_s,
            loss: event.loss,
            ...(preview ? { preview } : {}),
          });
          this.#emit(job.id);
          break;
        }
        case 'error':
          active.lastError = event;
          log.warn({ code: event.code, message: event.message }, 'training refused');
          break;
        case 'done':
          done = event;
          break;
      }
    });
    const exit = await proc.wait();
    this.#registry.jobs.setChild(job.id, this.runner, null);
    if (active.cancelled) {
      this.#finish(active, { state: 'cancelled', error: { code: 'CANCELLED', message: 'cancelled by an operator' } });
      return;
    }
    if (this.#closed && !done) {
      // The server is stopping: leave the job for the next start, which resumes it.
      this.#registry.jobs.requeue(job.id, this.runner);
      log.info('training interrupted by shutdown: requeued to resume');
      return;
    }
    if (exit.code === 0 && done) {
      try {
        const manifest = readStudentDir(out);
        const version = this.#registry.addVersion({ identityId: job.identity_id, jobId: job.id, runner: this.runner, outDir: out, manifest });
        log.info({ version, publishable: done.publishable }, 'training succeeded');
        this.#emit(job.id);
      } catch (error) {
        this.#finish(active, { state: 'failed', error: { code: 'BAD_RESULT', message: `the training result is unusable: ${errorText(error)}` } });
      }
      return;
    }
    this.#finish(active, { state: 'failed', error: failureOf(active.lastError, exit) });
  }

  /**
   * Copies a preview frame the CLI wrote inside its --out to `jobs/<id>/preview.png` (the out
   * directory moves when the job finishes; the job's row must not point into it). Returns the
   * stored relative path, or undefined for a path outside --out or a missing file.
   */
  #keepPreview(jobId: string, path: string, out: string): string | undefined {
    if (!path.startsWith(out + '/') || !existsSync(path)) return undefined;
    const layout = this.#registry.layout;
    const target = join(layout.jobDir(jobId), 'preview.png');
    try {
      copyFileSync(path, `${target}.tmp`);
      renameSync(`${target}.tmp`, target);
    } catch {
      return undefined;
    }
    return layout.rel(target);
  }

  #finish(active: Active, end: { state: 'failed' | 'cancelled'; error: { code: string; message: string } }): void {
    const ok = this.#registry.jobs.finish(active.job.id, this.runner, end);
    if (ok) {
      this.#log.info({ jobId: active.job.id, state: end.state, error: end.error }, 'job ended');
      this.#registry.audit('system', `job.${end.state}`, active.job.identity_id, { jobId: active.job.id, error: end.error });
    }
    this.#emit(active.job.id);
  }

  /** Running jobs whose runner is dead: stop a leftover process, record a finished result, or requeue. */
  #recover(): void {
    for (const job of this.#registry.jobs.list({ states: ['running'] })) {
      if (job.runner && runnerAlive(job.runner)) continue;
      if (job.child_pid && processAlive(job.child_pid, job.child_start ?? undefined)) {
        this.#log.warn({ jobId: job.id, pid: job.child_pid }, 'stopping the training process a dead server left behind');
        killGroup(job.child_pid, 'SIGKILL');
        waitGone(job.child_pid, job.child_start as string);
      }
      // Take ownership first so recording the version (or requeueing) is ours alone.
      const claimed = this.#registry.db
        .prepare(`UPDATE jobs SET runner = ? WHERE id = ? AND state = 'running' AND runner IS ?`)
        .run(this.runner, job.id, job.runner);
      if (claimed.changes !== 1) continue;
      const version = this.#registry.recoverFinishedJob(job, this.runner);
      if (version !== undefined) {
        this.#log.info({ jobId: job.id, version }, 'recovered a job that finished as its server died');
        continue;
      }
      this.#registry.jobs.requeue(job.id, this.runner);
      this.#log.info({ jobId: job.id }, 'job of a dead server requeued to resume from its checkpoint');
    }
  }

  #emit(jobId: string): void {
    const row = this.#registry.jobs.get(jobId);
    if (row) this.safeEmit('job', this.#registry.jobs.status(row));
  }

  /**
   * Idempotent: stops taking jobs, stops running training processes (SIGTERM, SIGKILL after the
   * grace period) and leaves their jobs queued so the next start resumes them.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const active of this.#active.values()) void active.process?.stop(graceMs);
    await Promise.allSettled([...this.#running]);
    liveRunners.delete(this.runner);
  }
}

function runnerAlive(runner: string): boolean {
  const [pidText, start] = runner.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return liveRunners.has(runner);
  return processAlive(pid, start);
}

/** Waits (briefly, synchronously: start-up only) until a killed process is gone or a zombie. */
function waitGone(pid: number, start: string): void {
  const deadline = Date.now() + 5000;
  while (processAlive(pid, start) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

function failureOf(lastError: TrainingEvent | undefined, exit: TrainingExit): { code: string; message: string } {
  if (lastError?.event === 'error') return { code: lastError.code, message: lastError.message };
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  const tail = exit.lastStderr.at(-1);
  return {
    code: exit.signal ? 'WORKER_KILLED' : 'WORKER_CRASHED',
    message: `the training process ${how}${tail ? `; last message: ${tail.slice(0, 300)}` : ''}`,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}
