/**
 * Test fixture: the committed demo identity's student (models/identities/demo), parsed with the
 * shared manifest schema. During development, before the demo was committed, `.data/dev-student`
 * (a throwaway model of the same signature) stood in; it is used only if the demo is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { studentManifestSchema, type StudentManifest } from '@shared/student/studentManifest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export function testStudentDir(): string {
  const demo = join(repoRoot, 'models/identities/demo');
  return existsSync(join(demo, 'manifest.json')) ? demo : join(repoRoot, '.data/dev-student');
}

export function testStudent(): { dir: string; manifest: StudentManifest; modelPath: string } {
  const dir = testStudentDir();
  const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  return { dir, manifest, modelPath: join(dir, manifest.model.file) };
}
