/**
 * The identity registry: identities with their consent record and source file, versions (each a
 * finished student directory with its parsed manifest and gate report), publications, grants and
 * the audit log, in one SQLite file under the data directory, plus the files the rows point at.
 *
 * Invariants: a row never points at a missing file (files are moved into place before the row
 * commits; `reconcile()` at start removes rows whose files vanished and files no row or active
 * job owns); deleting a version or an identity deletes its files; every change an operator makes
 * is in the audit log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AuditEntry,
  ConsentInput,
  ConsentRecord,
  Grant,
  GrantInput,
  IdentityDetail,
  IdentityListItem,
  VersionInfo,
} from '@shared/onboarding';
import { grantSchema } from '@shared/onboarding';
import { studentManifestSchema, type StudentManifest } from '@shared/student';
import type { Logger } from '../logger';
import { DataLayout } from './dataLayout';
import { JobStore, newJobId, type JobRow } from './JobStore';
import { RegistryDatabase } from './RegistryDatabase';
import { RegistryError } from './RegistryError';

export type SourceFile = {
  /** The checked upload, somewhere under the data directory's tmp/ (moved, not copied). */
  tmpPath: string;
  /** Extension for the stored file, e.g. "jpg", "mp4". */
  ext: string;
  kind: 'portrait' | 'clip';
  mime: string;
  bytes: number;
  sha256: string;
  /** Upright size in pixels (after EXIF orientation / rotation). */
  width: number;
  height: number;
  durationS: number | null;
  rotation: number;
};

export type VersionRow = {
  identity_id: string;
  version: number;
  dir: string;
  manifest_json: string;
  gates_passed: number;
  job_id: string | null;
  created_at: string;
  override_reason: string | null;
};

type IdentityRow = { id: string; display_name: string; created_at: string; published_version: number | null };

/** A loaded version: the row, its absolute directory and its parsed manifest. */
export type StoredVersion = { row: VersionRow; dir: string; manifest: StudentManifest };

const now = () => new Date().toISOString();

/** `Ada Lovelace` → `ada-lovelace-3f9a1c` (readable, unique). */
function newIdentityId(displayName: string): string {
  const slug = displayName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'identity'}-${randomBytes(3).toString('hex')}`;
}

export class IdentityRegistry {
  readonly layout: DataLayout;
  readonly database: RegistryDatabase;
  readonly jobs: JobStore;
  readonly #log: Logger;
  #closed = false;

  private constructor(layout: DataLayout, database: RegistryDatabase, log: Logger) {
    this.layout = layout;
    this.database = database;
    this.jobs = new JobStore(database.db);
    this.#log = log;
  }

  /** Opens (creating) `dataDir`, its database, and reconciles files with rows. */
  static open(dataDir: string, logger: Logger): IdentityRegistry {
    const layout = new DataLayout(dataDir);
    for (const dir of [layout.root, layout.tmp, layout.identities, layout.jobs]) mkdirSync(dir, { recursive: true });
    const registry = new IdentityRegistry(layout, RegistryDatabase.open(layout.database), logger.child({ component: 'registry' }));
    registry.reconcile();
    return registry;
  }

  get db() {
    return this.database.db;
  }

  // ---------------------------------------------------------------- identities

  /**
   * Creates an identity from a checked upload: the identity, its consent record, its source file
   * (moved from tmp/ into the identity's directory) and a queued training job, all or nothing.
   */
  createIdentity(input: { displayName: string; consent: ConsentInput; source: SourceFile; actor: string; identityId?: string }): {
    identityId: string;
    jobId: string;
  } {
    const identityId = input.identityId ?? newIdentityId(input.displayName);
    if (input.identityId && this.identityRow(input.identityId)) {
      rmSync(input.source.tmpPath, { force: true });
      throw new RegistryError(409, 'IDENTITY_EXISTS', `identity "${input.identityId}" already exists`);
    }
    const jobId = newJobId();
    const identityDir = this.layout.identityDir(identityId);
    const sourcePath = join(identityDir, `source.${input.source.ext}`);
    mkdirSync(identityDir, { recursive: true });
    try {
      renameSync(input.source.tmpPath, sourcePath);
      this.database.transaction(() => {
        const at = now();
        this.db.prepare(`INSERT INTO identities (id, display_name, created_at) VALUES (?, ?, ?)`).run(identityId, input.displayName, at);
        const c = input.consent;
        this.db
          .prepare(`INSERT INTO consents (identity_id, subject_name, uploaded_by, statement, method, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(identityId, c.subjectName, c.uploadedBy, c.statement, c.method, at);
        const s = input.source;
        this.db
          .prepare(
            `INSERT INTO sources (identity_id, path, kind, mime, bytes, sha256, width, height, duration_s, rotation)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(identityId, this.layout.rel(sourcePath), s.kind, s.mime, s.bytes, s.sha256, s.width, s.height, s.durationS, s.rotation);
        this.jobs.insert({ id: jobId, identityId, workDir: this.layout.rel(this.layout.jobDir(jobId)) });
        this.audit(input.actor, 'identity.create', identityId, {
          displayName: input.displayName,
          jobId,
          source: { kind: s.kind, mime: s.mime, bytes: s.bytes, sha256: s.sha256 },
          consent: { subjectName: c.subjectName, uploadedBy: c.uploadedBy, method: c.method },
        });
      });
    } catch (error) {
      rmSync(identityDir, { recursive: true, force: true });
      rmSync(input.source.tmpPath, { force: true });
      throw error;
    }
    this.#log.info({ identityId, jobId }, 'identity created');
    return { identityId, jobId };
  }

  /** Queues another training run of the identity's source (a new version when it succeeds). */
  createJob(identityId: string, actor: string): string {
    this.#requireIdentity(identityId);
    const jobId = newJobId();
    this.database.transaction(() => {
      this.jobs.insert({ id: jobId, identityId, workDir: this.layout.rel(this.layout.jobDir(jobId)) });
      this.audit(actor, 'job.create', identityId, { jobId });
    });
    return jobId;
  }

  identityRow(identityId: string): IdentityRow | undefined {
    return this.db.prepare(`SELECT * FROM identities WHERE id = ?`).get(identityId) as IdentityRow | undefined;
  }

  #requireIdentity(identityId: string): IdentityRow {
    const row = this.identityRow(identityId);
    if (!row) throw new RegistryError(404, 'IDENTITY_NOT_FOUND', `identity "${identityId}" does not exist`);
    return row;
  }

  /** Whether the identity was onboarded from a still portrait or a clip. */
  sourceKind(identityId: string): 'portrait' | 'clip' {
    const row = this.db.prepare(`SELECT kind FROM sources WHERE identity_id = ?`).get(identityId) as { kind: 'portrait' | 'clip' } | undefined;
    if (!row) throw new RegistryError(404, 'IDENTITY_NOT_FOUND', `identity "${identityId}" has no source`);
    return row.kind;
  }

  sourcePath(identityId: string): string {
    const row = this.db.prepare(`SELECT path FROM sources WHERE identity_id = ?`).get(identityId) as { path: string } | undefined;
    if (!row) throw new RegistryError(404, 'IDENTITY_NOT_FOUND', `identity "${identityId}" has no source`);
    return this.layout.abs(row.path);
  }

  listIdentities(): IdentityListItem[] {
    const rows = this.db.prepare(`SELECT * FROM identities ORDER BY created_at DESC, id`).all() as IdentityRow[];
    return rows.map((row) => this.#summary(row));
  }

  #summary(row: IdentityRow): IdentityListItem {
    const count = this.db.prepare(`SELECT COUNT(*) AS n FROM versions WHERE identity_id = ?`).get(row.id) as { n: number };
    const latest = this.db.prepare(`SELECT * FROM jobs WHERE identity_id = ? ORDER BY seq DESC LIMIT 1`).get(row.id) as JobRow | undefined;
    return {
      id: row.id,
      displayName: row.display_name,
      createdAt: row.created_at,
      publishedVersion: row.published_version,
      versions: count.n,
      latestJob: latest ? this.jobs.status(latest) : null,
    };
  }

  getIdentity(identityId: string): IdentityDetail {
    const row = this.#requireIdentity(identityId);
    const consent = this.db.prepare(`SELECT * FROM consents WHERE identity_id = ?`).get(identityId) as {
      subject_name: string;
      uploaded_by: string;
      statement: string;
      method: 'admin' | 'self';
      recorded_at: string;
    };
    const source = this.db.prepare(`SELECT * FROM sources WHERE identity_id = ?`).get(identityId) as {
      kind: 'portrait' | 'clip';
      mime: string;
      bytes: number;
      width: number;
      height: number;
      duration_s: number | null;
      rotation: number;
    };
    const consentRecord: ConsentRecord = {
      subjectName: consent.subject_name,
      uploadedBy: consent.uploaded_by,
      statement: consent.statement,
      agreed: true,
      method: consent.method,
      recordedAt: consent.recorded_at,
    };
    return {
      ...this.#summary(row),
      consent: consentRecord,
      source: {
        kind: source.kind,
        mime: source.mime,
        bytes: source.bytes,
        width: source.width,
        height: source.height,
        durationS: source.duration_s,
        rotation: source.rotation,
      },
      versionList: this.listVersions(identityId).map((v) => this.versionInfo(v, row.published_version)),
      grants: this.listGrants(identityId),
      jobs: this.jobs.list({ identityId }).map((j) => this.jobs.status(j)),
    };
  }

  /** Deletes the identity, its versions, source, jobs' files, grants; the audit log keeps the record. */
  deleteIdentity(identityId: string, actor: string, hasActiveJob: (identityId: string) => boolean): void {
    this.#requireIdentity(identityId);
    if (hasActiveJob(identityId)) {
      throw new RegistryError(409, 'JOB_ACTIVE', 'cancel the running or queued training job before deleting this identity');
    }
    const jobDirs = this.jobs.list({ identityId }).map((j) => this.layout.abs(j.work_dir));
    this.database.transaction(() => {
      this.db.prepare(`DELETE FROM identities WHERE id = ?`).run(identityId);
      this.audit(actor, 'identity.delete', identityId, {});
    });
    rmSync(this.layout.identityDir(identityId), { recursive: true, force: true });
    for (const dir of jobDirs) rmSync(dir, { recursive: true, force: true });
    this.#log.info({ identityId }, 'identity deleted');
  }

  // ---------------------------------------------------------------- versions

  /**
   * Moves a finished student directory into the identity and records it as the next version, and
   * marks the job succeeded, in one transaction. The manifest must parse and name an existing
   * model file. Returns the version number.
   */
  addVersion(input: { identityId: string; jobId: string; runner: string; outDir: string; manifest: StudentManifest }): number {
    const target = join(this.layout.versionsDir(input.identityId), input.jobId);
    checkStudentDir(input.outDir, input.manifest);
    mkdirSync(this.layout.versionsDir(input.identityId), { recursive: true });
    if (!existsSync(target)) renameSync(input.outDir, target);
    return this.#recordVersion(input.identityId, input.jobId, input.runner, target, input.manifest);
  }

  #recordVersion(identityId: string, jobId: string, runner: string, dir: string, manifest: StudentManifest): number {
    return this.database.transaction(() => {
      const existing = this.db.prepare(`SELECT version FROM versions WHERE dir = ?`).get(this.layout.rel(dir)) as
        | { version: number }
        | undefined;
      if (existing) return existing.version;
      const max = this.db.prepare(`SELECT MAX(version) AS v FROM versions WHERE identity_id = ?`).get(identityId) as { v: number | null };
      // Never reuse a number, even of a deleted version: count publications and jobs too.
      const maxJob = this.db.prepare(`SELECT MAX(version) AS v FROM jobs WHERE identity_id = ?`).get(identityId) as { v: number | null };
      const version = Math.max(max.v ?? 0, maxJob.v ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO versions (identity_id, version, dir, manifest_json, gates_passed, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(identityId, version, this.layout.rel(dir), JSON.stringify(manifest), manifest.gates.passed ? 1 : 0, jobId, now());
      if (!this.jobs.finish(jobId, runner, { state: 'succeeded', version })) {
        throw new RegistryError(409, 'JOB_NOT_RUNNING', `job ${jobId} is no longer running under this runner`);
      }
      this.audit('system', 'version.create', identityId, { version, jobId, gatesPassed: manifest.gates.passed });
      return version;
    });
  }

  /**
   * After a crash between moving a finished student directory into place and recording it: if
   * the job's version directory exists with a valid manifest, record it now. Returns the version,
   * or undefined when there is nothing to recover.
   */
  recoverFinishedJob(job: JobRow, runner: string): number | undefined {
    const dir = join(this.layout.versionsDir(job.identity_id), job.id);
    if (!existsSync(dir)) return undefined;
    try {
      const manifest = readStudentDir(dir);
      return this.#recordVersion(job.identity_id, job.id, runner, dir, manifest);
    } catch (error) {
      this.#log.warn({ err: error, jobId: job.id }, 'unrecordable version directory removed');
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  listVersions(identityId: string): StoredVersion[] {
    const rows = this.db.prepare(`SELECT * FROM versions WHERE identity_id = ? ORDER BY version`).all(identityId) as VersionRow[];
    return rows.map((row) => this.#loadVersion(row));
  }

  getVersion(identityId: string, version: number): StoredVersion {
    this.#requireIdentity(identityId);
    const row = this.db.prepare(`SELECT * FROM versions WHERE identity_id = ? AND version = ?`).get(identityId, version) as
      | VersionRow
      | undefined;
    if (!row) throw new RegistryError(404, 'VERSION_NOT_FOUND', `identity "${identityId}" has no version ${version}`);
    return this.#loadVersion(row);
  }

  #loadVersion(row: VersionRow): StoredVersion {
    return { row, dir: this.layout.abs(row.dir), manifest: studentManifestSchema.parse(JSON.parse(row.manifest_json)) };
  }

  versionInfo(v: StoredVersion, publishedVersion: number | null): VersionInfo {
    const base = `/api/identities/${v.row.identity_id}/versions/${v.row.version}`;
    const { manifest } = v;
    return {
      version: v.row.version,
      createdAt: v.row.created_at,
      jobId: v.row.job_id,
      gates: { passed: manifest.gates.passed, evaluatedOn: manifest.gates.evaluatedOn, metrics: manifest.gates.metrics },
      published: publishedVersion === v.row.version,
      overrideReason: v.row.override_reason,
      previewUrl: manifest.gates.previewFile ? `${base}/preview` : null,
      reportUrl: manifest.gates.reportFile ? `${base}/report` : null,
      model: { outputSize: manifest.model.outputSize, params: manifest.model.params, flopsPerFrame: manifest.model.flopsPerFrame },
      training: { steps: manifest.training.steps, wallTimeS: manifest.training.wallTimeS },
    };
  }

  /** A file the manifest names (preview, report), resolved inside the version directory. */
  versionFile(identityId: string, version: number, which: 'preview' | 'report'): string {
    const v = this.getVersion(identityId, version);
    const name = which === 'preview' ? v.manifest.gates.previewFile : v.manifest.gates.reportFile;
    if (!name) throw new RegistryError(404, 'NOT_FOUND', `version ${version} has no ${which}`);
    const path = join(v.dir, name);
    if (!path.startsWith(v.dir + '/') || !existsSync(path)) throw new RegistryError(404, 'NOT_FOUND', `version ${version} has no ${which}`);
    return path;
  }

  /**
   * Makes `version` the one live sessions use (at their next start). A version that failed its
   * gates needs `override.reason`; the override is audited and kept with the version.
   */
  publish(identityId: string, version: number, actor: string, override?: { reason: string }): void {
    const v = this.getVersion(identityId, version);
    if (!v.manifest.gates.passed && !override) {
      const failed = Object.entries(v.manifest.gates.metrics)
        .filter(([, m]) => !m.passed)
        .map(([name, m]) => `${name} ${m.value} (needs ${m.op} ${m.threshold})`);
      throw new RegistryError(
        409,
        'GATES_FAILED',
        `version ${version} failed its quality gates (${failed.join('; ') || 'see the report'}); publishing it needs an admin override with a reason`,
      );
    }
    this.database.transaction(() => {
      this.db.prepare(`UPDATE identities SET published_version = ? WHERE id = ?`).run(version, identityId);
      if (override) this.db.prepare(`UPDATE versions SET override_reason = ? WHERE identity_id = ? AND version = ?`).run(override.reason, identityId, version);
      this.db.prepare(`INSERT INTO publications (identity_id, version, at, actor) VALUES (?, ?, ?, ?)`).run(identityId, version, now(), actor);
      this.audit(actor, override ? 'version.publish.override' : 'version.publish', identityId, {
        version,
        gatesPassed: v.manifest.gates.passed,
        ...(override ? { reason: override.reason } : {}),
      });
    });
  }

  /** Publishes an earlier version: `toVersion`, or the one published before the current one. */
  rollback(identityId: string, actor: string, toVersion?: number): number {
    const identity = this.#requireIdentity(identityId);
    let target = toVersion;
    if (target === undefined) {
      const history = this.db
        .prepare(
          `SELECT p.version FROM publications p JOIN versions v ON v.identity_id = p.identity_id AND v.version = p.version
           WHERE p.identity_id = ? ORDER BY p.id DESC`,
        )
        .all(identityId) as { version: number }[];
      target = history.find((h) => h.version !== identity.published_version)?.version;
      if (target === undefined) throw new RegistryError(409, 'NO_EARLIER_VERSION', 'no earlier published version to roll back to');
    }
    const v = this.getVersion(identityId, target);
    // A version published before (gated or overridden) may come back; a never-published failing one needs publish+override.
    if (!v.manifest.gates.passed && v.row.override_reason === null) {
      throw new RegistryError(409, 'GATES_FAILED', `version ${target} failed its gates and was never published by override`);
    }
    this.database.transaction(() => {
      this.db.prepare(`UPDATE identities SET published_version = ? WHERE id = ?`).run(target, identityId);
      this.db.prepare(`INSERT INTO publications (identity_id, version, at, actor) VALUES (?, ?, ?, ?)`).run(identityId, target, now(), actor);
      this.audit(actor, 'version.rollback', identityId, { from: identity.published_version, to: target });
    });
    return target;
  }

  /**
   * Deletes a version's row and then its files. Deleting the published version unpublishes the
   * identity (live sessions already running keep their loaded model until they close).
   */
  deleteVersion(identityId: string, version: number, actor: string): void {
    const v = this.getVersion(identityId, version);
    this.database.transaction(() => {
      this.db.prepare(`DELETE FROM versions WHERE identity_id = ? AND version = ?`).run(identityId, version);
      this.db.prepare(`UPDATE identities SET published_version = NULL WHERE id = ? AND published_version = ?`).run(identityId, version);
      this.audit(actor, 'version.delete', identityId, { version });
    });
    rmSync(v.dir, { recursive: true, force: true });
  }

  /** The published version with its files, or undefined when none is published. */
  published(identityId: string): StoredVersion | undefined {
    const row = this.identityRow(identityId);
    if (!row || row.published_version === null) return undefined;
    return this.getVersion(identityId, row.published_version);
  }

  // ---------------------------------------------------------------- grants

  listGrants(identityId: string): Grant[] {
    const rows = this.db
      .prepare(`SELECT room_id, participant, created_at FROM grants WHERE identity_id = ? ORDER BY room_id, participant`)
      .all(identityId) as { room_id: string; participant: string; created_at: string }[];
    return rows.map((r) => ({ roomId: r.room_id, participant: r.participant, createdAt: r.created_at }));
  }

  addGrant(identityId: string, input: GrantInput, actor: string): Grant {
    this.#requireIdentity(identityId);
    const g = grantSchema.parse(input);
    const at = now();
    this.database.transaction(() => {
      this.db
        .prepare(`INSERT OR IGNORE INTO grants (identity_id, room_id, participant, created_at) VALUES (?, ?, ?, ?)`)
        .run(identityId, g.roomId, g.participant, at);
      this.audit(actor, 'grant.add', identityId, g);
    });
    return { ...g, createdAt: at };
  }

  removeGrant(identityId: string, input: GrantInput, actor: string): void {
    const g = grantSchema.parse(input);
    this.database.transaction(() => {
      const r = this.db.prepare(`DELETE FROM grants WHERE identity_id = ? AND room_id = ? AND participant = ?`).run(identityId, g.roomId, g.participant);
      if (r.changes === 0) throw new RegistryError(404, 'GRANT_NOT_FOUND', `no grant of "${identityId}" to room ${g.roomId} / ${g.participant}`);
      this.audit(actor, 'grant.remove', identityId, g);
    });
  }

  /** True when a grant lets `participant` in `roomId` drive the identity. */
  isGranted(identityId: string, roomId: string, participant: string): boolean {
    const row = this.db
      .prepare(
        `SELECT 1 FROM grants WHERE identity_id = ? AND room_id IN (?, '*') AND participant IN (?, '*') LIMIT 1`,
      )
      .get(identityId, roomId, participant);
    return row !== undefined;
  }

  // ---------------------------------------------------------------- audit

  audit(actor: string, action: string, identityId: string | null, detail: Record<string, unknown>): void {
    this.db
      .prepare(`INSERT INTO audit (at, actor, action, identity_id, detail) VALUES (?, ?, ?, ?, ?)`)
      .run(now(), actor, action, identityId, JSON.stringify(detail));
  }

  listAudit(filter: { identityId?: string; limit?: number } = {}): AuditEntry[] {
    const limit = Math.min(Math.max(filter.limit ?? 200, 1), 1000);
    const rows = (
      filter.identityId
        ? this.db.prepare(`SELECT * FROM audit WHERE identity_id = ? ORDER BY id DESC LIMIT ?`).all(filter.identityId, limit)
        : this.db.prepare(`SELECT * FROM audit ORDER BY id DESC LIMIT ?`).all(limit)
    ) as { id: number; at: string; actor: string; action: string; identity_id: string | null; detail: string }[];
    return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, identityId: r.identity_id, detail: JSON.parse(r.detail) }));
  }

  // ---------------------------------------------------------------- consistency

  /**
   * Brings rows and files into agreement (run at open): empties tmp/, drops version rows whose
   * directory or model file is gone (unpublishing them), and deletes identity and job directories
   * and version directories that no row owns (a version directory of a still-running job is kept:
   * `recoverFinishedJob` records it).
   */
  reconcile(): { droppedVersions: number; removedPaths: number } {
    let droppedVersions = 0;
    let removedPaths = 0;
    for (const entry of readdirSync(this.layout.tmp)) {
      rmSync(join(this.layout.tmp, entry), { recursive: true, force: true });
      removedPaths++;
    }
    const versions = this.db.prepare(`SELECT * FROM versions`).all() as VersionRow[];
    for (const row of versions) {
      const dir = this.layout.abs(row.dir);
      let ok = false;
      try {
        checkStudentDir(dir, studentManifestSchema.parse(JSON.parse(row.manifest_json)));
        ok = true;
      } catch (error) {
        this.#log.warn({ err: error, identityId: row.identity_id, version: row.version }, 'version files missing: row dropped');
      }
      if (ok) continue;
      this.database.transaction(() => {
        this.db.prepare(`DELETE FROM versions WHERE identity_id = ? AND version = ?`).run(row.identity_id, row.version);
        this.db.prepare(`UPDATE identities SET published_version = NULL WHERE id = ? AND published_version = ?`).run(row.identity_id, row.version);
        this.audit('system', 'version.missing', row.identity_id, { version: row.version, dir: row.dir });
      });
      rmSync(dir, { recursive: true, force: true });
      droppedVersions++;
    }
    const identities = new Set((this.db.prepare(`SELECT id FROM identities`).all() as { id: string }[]).map((r) => r.id));
    const versionDirs = new Set((this.db.prepare(`SELECT dir FROM versions`).all() as { dir: string }[]).map((r) => r.dir));
    const jobs = this.db.prepare(`SELECT id, state, identity_id FROM jobs`).all() as { id: string; state: string; identity_id: string }[];
    const jobIds = new Set(jobs.map((j) => j.id));
    const activeJobs = new Set(jobs.filter((j) => j.state === 'running' || j.state === 'queued').map((j) => j.id));
    for (const id of readdirSync(this.layout.identities)) {
      if (!identities.has(id)) {
        rmSync(this.layout.identityDir(id), { recursive: true, force: true });
        removedPaths++;
        continue;
      }
      const vdir = this.layout.versionsDir(id);
      if (!existsSync(vdir)) continue;
      for (const name of readdirSync(vdir)) {
        const rel = this.layout.rel(join(vdir, name));
        if (versionDirs.has(rel) || activeJobs.has(name)) continue;
        rmSync(join(vdir, name), { recursive: true, force: true });
        removedPaths++;
      }
    }
    for (const id of readdirSync(this.layout.jobs)) {
      if (jobIds.has(id)) continue;
      rmSync(this.layout.jobDir(id), { recursive: true, force: true });
      removedPaths++;
    }
    if (droppedVersions || removedPaths) this.#log.info({ droppedVersions, removedPaths }, 'registry reconciled with the data directory');
    return { droppedVersions, removedPaths };
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.database.close();
  }
}

/** Throws unless `dir` holds manifest.json and a non-empty model file named by the manifest (a cheap check, run at start). */
function checkStudentDir(dir: string, manifest: StudentManifest): void {
  const model = join(dir, manifest.model.file);
  if (!model.startsWith(dir + '/')) throw new Error(`manifest model path ${manifest.model.file} escapes ${dir}`);
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir}/manifest.json is missing`);
  if (!existsSync(model) || statSync(model).size === 0) throw new Error(`${model} is missing or empty`);
}

/** Reads and parses `dir/manifest.json` and checks the model file; throws with the reason. */
export function readStudentDir(dir: string): StudentManifest {
  const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  checkStudentDir(dir, manifest);
  return manifest;
}

export { sha256File } from '../util/sha256File';
