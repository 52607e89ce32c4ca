/** Test fixture: the committed demo identity's student (models/identities/demo), parsed with the shared manifest schema. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { studentManifestSchema, type StudentManifest } from '@shared/student/studentManifest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export function testStudentDir(): string {
  return join(repoRoot, 'models/identities/demo');
}

export function testStudent(): { dir: string; manifest: StudentManifest; modelPath: string } {
  const dir = testStudentDir();
  const manifest = studentManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  return { dir, manifest, modelPath: join(dir, manifest.model.file) };
}
