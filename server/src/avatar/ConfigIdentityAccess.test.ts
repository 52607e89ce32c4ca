import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentityRequester } from '../identities/IdentityAccess';
import { ConfigIdentityAccess } from './ConfigIdentityAccess';
import { testStudentDir } from './testStudent';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function studentCopy(edit: (manifest: any) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-identity-'));
  dirs.push(dir);
  cpSync(testStudentDir(), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  writeFileSync(join(dir, 'manifest.json'), edit(manifest));
  return dir;
}

function access(studentDir: string): ConfigIdentityAccess {
  return new ConfigIdentityAccess({ identities: [{ identityId: 'x', displayName: 'X', studentDir }], roomGrants: { '*': ['x'] } });
}

const requester: IdentityRequester = { roomId: 'r', peerId: 'p', displayName: 'P' };

describe('ConfigIdentityAccess', () => {
  it('resolves a valid student', async () => {
    const resolved = await access(testStudentDir()).resolve(requester, 'x');
    expect(resolved.modelPath).toBe(join(testStudentDir(), 'student.onnx'));
  });

  it('says which field of an invalid manifest is wrong (an int8 block naming a file in another directory)', async () => {
    const dir = studentCopy((m) => {
      m.model.int8.file = 'sub/student.int8.onnx';
      return JSON.stringify(m);
    });
    await expect(access(dir).resolve(requester, 'x')).rejects.toThrow(
      /manifest.json of "x" is invalid: model\.int8\.file: a file name in the manifest directory/,
    );
  });

  it('says when a manifest is not JSON', async () => {
    const dir = studentCopy(() => '{ not json');
    await expect(access(dir).resolve(requester, 'x')).rejects.toThrow(/manifest.json of "x" is invalid: .*JSON/);
  });
});
