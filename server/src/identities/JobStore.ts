/**
 * Job rows in the registry database: the persistent half of the job queue (`JobQueue` runs them).
 * State machine: queued → running → succeeded | failed | cancelled; failed/cancelled → queued on
 * retry; running → queued when the server stops or dies under it (resumed from its checkpoint).
 * Every write is one statement or one transaction, so a crash leaves a consistent row.
 */
import { randomBytes } from 'node:crypto';
import type { JobState, JobStatus } from '@shared/onboarding';
import { trainingStageSchema, type TrainingStage } from '@shared/student';
import type { Db } from './RegistryDatabase';

export type JobRow = {
  seq: number;
  id: string;
  identity_id: string;
  state: JobState;
  stage: string | null;
  stage_step: number | null;
  stage_total: number | null;
  progress: number;
  eta_s: number | null;
  loss: number | null;
  preview: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  work_dir: string;
  runner: string | null;
  child_pid: number | null;
  child_start: string | null;
  version: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
};

export const newJobId = (): string => `job_${randomBytes(8).toString('hex')}`;
const now = () => new Date().toISOString();

export class JobStore {
  constructor(readonly db: Db) {}

  insert(job: { id: string; identityId: string; workDir: string }): JobRow {
    const at = now();
    this.db
      .prepare(
        `INSERT INTO jobs (id, identity_id, state, work_dir, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)`,
      )
      .run(job.id, job.identityId, job.workDir, at, at);
    return this.get(job.id) as JobRow;
  }

  get(id: string): JobRow | undefined {
    return this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
  }

  list(filter: { identityId?: string; states?: readonly JobState[] } = {}): JobRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.identityId) {
      where.push('identity_id = ?');
      args.push(filter.identityId);
    }
    if (filter.states) {
      where.push(`state IN (${filter.states.map(() => '?').join(',')})`);
      args.push(...filter.states);
    }
    return this.db
      .prepare(`SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`)
      .all(...args) as JobRow[];
  }

  /** The oldest queued job, atomically marked running by `runner`; undefined when none. */
  claimNext(runner: string): JobRow | undefined {
    return this.db
      .transaction(() => {
        const next = this.db.prepare(`SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1`).get() as
          | { id: string }
          | undefined;
        if (!next) return undefined;
        const at = now();
        this.db
          .prepare(
            `UPDATE jobs SET state = 'running', runner = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?),
               error_code = NULL, error_message = NULL, updated_at = ? WHERE id = ? AND state = 'queued'`,
          )
          .run(runner, at, at, next.id);
        return this.get(next.id);
      })
      .immediate();
  }

  setChild(id: string, runner: string, child: { pid: number; start: string } | null): void {
    this.db
      .prepare(`UPDATE jobs SET child_pid = ?, child_start = ?, updated_at = ? WHERE id = ? AND runner = ?`)
      .run(child?.pid ?? null, child?.start ?? null, now(), id, runner);
  }

  progress(
    id: string,
    runner: string,
    p: { stage: TrainingStage; step: number; total: number; overall: number; etaS: number | null; loss: number | null; preview?: string },
  ): void {
    this.db
      .prepare(
        `UPDATE jobs SET stage = ?, stage_step = ?, stage_total = ?, progress = MAX(progress, ?), eta_s = ?, loss = ?,
           preview = COALESCE(?, preview), updated_at = ?
         WHERE id = ? AND runner = ? AND state = 'running'`,
      )
      .run(p.stage, p.step, p.total, p.overall, p.etaS, p.loss, p.preview ?? null, now(), id, runner);
  }

  /** Ends a running job owned by `runner`. Returns false if it was no longer ours (cancelled, reclaimed). */
  finish(
    id: string,
    runner: string,
    end: { state: 'succeeded' | 'failed' | 'cancelled'; error?: { code: string; message: string }; version?: number },
  ): boolean {
    const at = now();
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = ?, error_code = ?, error_message = ?, version = COALESCE(?, version),
           progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END, eta_s = NULL,
           runner = NULL, child_pid = NULL, child_start = NULL, finished_at = ?, updated_at = ?
         WHERE id = ? AND runner = ? AND state = 'running'`,
      )
      .run(end.state, end.error?.code ?? null, end.error?.message ?? null, end.version ?? null, end.state, at, at, id, runner);
    return r.changes === 1;
  }

  /** A running job whose runner is gone goes back to the head of the queue (it resumes). */
  requeue(id: string, runner: string | null): boolean {
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', runner = NULL, child_pid = NULL, child_start = NULL, eta_s = NULL, updated_at = ?
         WHERE id = ? AND state = 'running' AND runner IS ?`,
      )
      .run(now(), id, runner);
    return r.changes === 1;
  }

  /** failed | cancelled → queued (keeps its seq: order of creation). */
  retry(id: string): boolean {
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', error_code = NULL, error_message = NULL, finished_at = NULL, updated_at = ?
         WHERE id = ? AND state IN ('failed', 'cancelled')`,
      )
      .run(now(), id);
    return r.changes === 1;
  }

  /** queued → cancelled directly; a running job is cancelled by its runner (`finish`). */
  cancelQueued(id: string): boolean {
    const at = now();
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', error_code = 'CANCELLED', error_message = 'cancelled before it started',
           finished_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'`,
      )
      .run(at, at, id);
    return r.changes === 1;
  }

  queuePosition(row: JobRow): number | null {
    if (row.state !== 'queued') return null;
    const r = this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND seq < ?`).get(row.seq) as { n: number };
    return r.n;
  }

  /** The API view of a row. */
  status(row: JobRow): JobStatus {
    const stage = trainingStageSchema.safeParse(row.stage);
    return {
      id: row.id,
      identityId: row.identity_id,
      state: row.state,
      progress: Math.min(1, Math.max(0, row.progress)),
      stage: stage.success ? stage.data : null,
      step: row.stage_step !== null && row.stage_total !== null ? { step: row.stage_step, total: row.stage_total } : null,
      etaS: row.eta_s,
      loss: row.loss,
      ...(row.error_code ? { error: { code: row.error_code, message: row.error_message ?? row.error_code } } : {}),
      attempts: row.attempts,
      queuePosition: this.queuePosition(row),
      previewUrl: row.preview ? `/api/jobs/${row.id}/preview.png?t=${encodeURIComponent(row.updated_at)}` : null,
      version: row.version,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    };
  }
}
