import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sharedMedia } from '../testing/onboardingInputs';
import { studentCliMissing, trainedStudent } from '../testing/studentCli';
import { IdentityRegistry, readStudentDir, sha256File } from './IdentityRegistry';
import { MIGRATIONS } from './migrations';

const logger = pino({ level: 'silent' });
const consent = { subjectName: 'Sam Zero', uploadedBy: 'Operator One', statement: 'Sam agreed on camera to an avatar of their face.', agreed: true as const, method: 'admin' as const };

let dir: string;
let registry: IdentityRegistry | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-test-'));
});
afterEach(async () => {
  registry?.close();
  registry = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function stagedPortrait(r: IdentityRegistry): Promise<Parameters<IdentityRegistry['createIdentity']>[0]['source']> {
  const tmpPath = join(r.layout.tmp, `upload-${Math.random().toString(16).slice(2)}`);
  copyFileSync(join(sharedMedia, 's0.jpg'), tmpPath);
  return { tmpPath, ext: 'jpg', kind: 'portrait', mime: 'image/jpeg', bytes: 116149, sha256: await sha256File(tmpPath), width: 600, height: 704, durationS: null, rotation: 0 };
}

describe('IdentityRegistry', () => {
  it('keeps its data in a real SQLite file in WAL mode with every migration applied', () => {
    registry = IdentityRegistry.open(dir, logger);
    expect(registry.database.schemaVersion).toBe(MIGRATIONS.length);
    expect(registry.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(existsSync(join(dir, 'registry.sqlite'))).toBe(true);
  });

  it('refuses a database written by a newer schema', () => {
    IdentityRegistry.open(dir, logger).close();
    const db = new Database(join(dir, 'registry.sqlite'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => IdentityRegistry.open(dir, logger)).toThrow(/newer than this server knows/);
  });

  it('creates an identity with its consent record, source file and queued job, and keeps them across a reopen', async () => {
    registry = IdentityRegistry.open(dir, logger);
    const source = await stagedPortrait(registry);
    const { identityId, jobId } = registry.createIdentity({ displayName: 'Sam Zero', consent, source, actor: 'admin' });
    expect(identityId).toMatch(/^sam-zero-[0-9a-f]{6}$/);
    expect(existsSync(source.tmpPath)).toBe(false);
    expect(existsSync(registry.sourcePath(identityId))).toBe(true);
    registry.close();

    registry = IdentityRegistry.open(dir, logger);
    const detail = registry.getIdentity(identityId);
    expect(detail.displayName).toBe('Sam Zero');
    expect(detail.consent).toMatchObject({ subjectName: 'Sam Zero', uploadedBy: 'Operator One', agreed: true, method: 'admin' });
    expect(detail.source).toMatchObject({ kind: 'portrait', width: 600, height: 704 });
    expect(detail.jobs.map((j) => [j.id, j.state, j.queuePosition])).toEqual([[jobId, 'queued', 0]]);
    expect(registry.listAudit({ identityId }).map((a) => a.action)).toEqual(['identity.create']);
  });

  it('rolls back the identity and removes its files when the database write fails', async () => {
    registry = IdentityRegistry.open(dir, logger);
    const source = await stagedPortrait(registry);
    const bad = { ...consent, method: 'nobody' as unknown as 'admin' }; // violates the CHECK constraint
    expect(() => registry!.createIdentity({ displayName: 'Broken', consent: bad, source, actor: 'admin' })).toThrow(/CHECK constraint/);
    expect(registry.listIdentities()).toEqual([]);
    expect(registry.jobs.list()).toEqual([]);
    expect(existsSync(source.tmpPath)).toBe(false);
    registry.close();
    registry = IdentityRegistry.open(dir, logger);
    expect(registry.reconcile()).toEqual({ droppedVersions: 0, removedPaths: 0 });
  });

  it('removes files no row owns at open (a crash between writing a file and committing its row)', () => {
    registry = IdentityRegistry.open(dir, logger);
    registry.close();
    mkdirSync(join(dir, 'identities/ghost-000000/versions/job_0123456789abcdef'), { recursive: true });
    mkdirSync(join(dir, 'jobs/job_fedcba9876543210'), { recursive: true });
    writeFileSync(join(dir, 'tmp/upload-half'), 'half an upload');
    registry = IdentityRegistry.open(dir, logger);
    expect(existsSync(join(dir, 'identities/ghost-000000'))).toBe(false);
    expect(existsSync(join(dir, 'jobs/job_fedcba9876543210'))).toBe(false);
    expect(existsSync(join(dir, 'tmp/upload-half'))).toBe(false);
  });

  it('grants an identity per room and participant, and audits every change', async () => {
    registry = IdentityRegistry.open(dir, logger);
    const { identityId } = registry.createIdentity({ displayName: 'Sam', consent, source: await stagedPortrait(registry), actor: 'admin' });
    registry.addGrant(identityId, { roomId: 'standup', participant: 'Sam' }, 'admin');
    expect(registry.isGranted(identityId, 'standup', 'Sam')).toBe(true);
    expect(registry.isGranted(identityId, 'standup', 'Mallory')).toBe(false);
    expect(registry.isGranted(identityId, 'other', 'Sam')).toBe(false);
    registry.addGrant(identityId, { roomId: '*' }, 'admin');
    expect(registry.isGranted(identityId, 'other', 'Mallory')).toBe(true);
    registry.removeGrant(identityId, { roomId: '*' }, 'admin');
    expect(registry.isGranted(identityId, 'other', 'Mallory')).toBe(false);
    expect(() => registry!.removeGrant(identityId, { roomId: '*' }, 'admin')).toThrow(/no grant/);
    expect(registry.listAudit({ identityId }).map((a) => a.action)).toEqual(['grant.remove', 'grant.add', 'grant.add', 'identity.create']);
  });

  describe.skipIf(studentCliMissing)('versions (a real student trained by the CLI)', () => {
    async function withVersion(gatesPassed = true) {
      registry = IdentityRegistry.open(dir, logger);
      const { identityId, jobId } = registry.createIdentity({ displayName: 'Sam', consent, source: await stagedPortrait(registry), actor: 'admin' });
      const job = registry.jobs.claimNext('test-runner');
      expect(job?.id).toBe(jobId);
      const out = await trainedStudent(registry.layout.jobOut(jobId));
      if (!gatesPassed) {
        const manifestPath = join(out, 'manifest.json');
        const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
        m.gates.passed = false;
        const name = Object.keys(m.gates.metrics)[0] as string;
        m.gates.metrics[name].passed = false;
        writeFileSync(manifestPath, JSON.stringify(m));
      }
      const version = registry.addVersion({ identityId, jobId, runner: 'test-runner', outDir: out, manifest: readStudentDir(out) });
      return { identityId, jobId, version };
    }

    it('records a finished student as a version with its gate report and marks the job succeeded', async () => {
      const { identityId, jobId, version } = await withVersion();
      expect(version).toBe(1);
      const detail = registry!.getIdentity(identityId);
      expect(detail.jobs[0]).toMatchObject({ id: jobId, state: 'succeeded', progress: 1, version: 1 });
      const v = detail.versionList[0]!;
      expect(v.gates.passed).toBe(true);
      expect(Object.keys(v.gates.metrics).length).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'identities', identityId, 'versions', jobId, 'student.onnx'))).toBe(true);
      expect(existsSync(registry!.layout.jobOut(jobId))).toBe(false);
    });

    it('publishes a version that passed its gates, and refuses one that failed unless an admin overrides with a reason', async () => {
      const { identityId } = await withVersion(false);
      expect(() => registry!.publish(identityId, 1, 'admin')).toThrow(/failed its quality gates/);
      expect(registry!.published(identityId)).toBeUndefined();
      registry!.publish(identityId, 1, 'admin', { reason: 'Reviewed the preview by hand; good enough for the demo.' });
      expect(registry!.published(identityId)?.row.version).toBe(1);
      const audit = registry!.listAudit({ identityId });
      expect(audit[0]).toMatchObject({ action: 'version.publish.override', detail: { version: 1, reason: 'Reviewed the preview by hand; good enough for the demo.' } });
      expect(registry!.getIdentity(identityId).versionList[0]?.overrideReason).toMatch(/Reviewed/);
    });

    it('rolls back to the version published before, and audits it', async () => {
      const { identityId } = await withVersion();
      registry!.publish(identityId, 1, 'admin');
      const second = registry!.createJob(identityId, 'admin');
      expect(registry!.jobs.claimNext('test-runner')?.id).toBe(second);
      const out = await trainedStudent(registry!.layout.jobOut(second));
      expect(registry!.addVersion({ identityId, jobId: second, runner: 'test-runner', outDir: out, manifest: readStudentDir(out) })).toBe(2);
      registry!.publish(identityId, 2, 'admin');
      expect(registry!.rollback(identityId, 'admin')).toBe(1);
      expect(registry!.published(identityId)?.row.version).toBe(1);
      expect(registry!.listAudit({ identityId })[0]).toMatchObject({ action: 'version.rollback', detail: { from: 2, to: 1 } });
      expect(() => registry!.rollback(identityId, 'admin', 7)).toThrow(/no version 7/);
    });

    it('deletes a version and its files; the published one is unpublished', async () => {
      const { identityId, jobId } = await withVersion();
      registry!.publish(identityId, 1, 'admin');
      const vdir = join(dir, 'identities', identityId, 'versions', jobId);
      registry!.deleteVersion(identityId, 1, 'admin');
      expect(existsSync(vdir)).toBe(false);
      expect(registry!.identityRow(identityId)?.published_version).toBeNull();
      expect(registry!.getIdentity(identityId).versionList).toEqual([]);
    });

    it('drops a version whose files vanished behind its back at the next open', async () => {
      const { identityId, jobId } = await withVersion();
      registry!.publish(identityId, 1, 'admin');
      registry!.close();
      rmSync(join(dir, 'identities', identityId, 'versions', jobId, 'student.onnx'));
      registry = IdentityRegistry.open(dir, logger);
      expect(registry.getIdentity(identityId).versionList).toEqual([]);
      expect(registry.identityRow(identityId)?.published_version).toBeNull();
      expect(registry.listAudit({ identityId })[0]?.action).toBe('version.missing');
    });
  });
});
