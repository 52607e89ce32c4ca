import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { studentManifestSchema } from './studentManifest';

const demo = JSON.parse(readFileSync(new URL('../../../models/identities/demo/manifest.json', import.meta.url), 'utf8'));

function withInt8File(file: string) {
  return { ...demo, model: { ...demo.model, int8: { ...demo.model.int8, file } } };
}

describe('studentManifestSchema', () => {
  it('parses the committed demo student, its int8 variant included', () => {
    expect(studentManifestSchema.parse(demo).model.int8?.file).toBe('student.int8.onnx');
  });

  it("takes only a file name in the manifest's directory for the int8 variant", () => {
    for (const file of ['sub/student.int8.onnx', '..\\x.onnx', '/etc/passwd', '.', '..', '']) {
      expect(studentManifestSchema.safeParse(withInt8File(file)).success, file).toBe(false);
    }
    for (const file of ['student.int8.onnx', '.hidden.onnx', 'a..b.onnx']) {
      expect(studentManifestSchema.safeParse(withInt8File(file)).success, file).toBe(true);
    }
  });
});
