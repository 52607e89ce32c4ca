/**
 * Which file of a student the render workers load: the float `student.onnx`, or its int8 variant
 * (`manifest.model.int8`, made by models/avatar_ml/student/quantize.py) when the config asks for
 * int8 on the CPU. The variant is checked against its manifest sha256 first; a missing or altered
 * variant is logged and the (already verified) float file serves, so a bad optional file never
 * stops an avatar.
 */
import { dirname, join } from 'node:path';
import type { StudentManifest } from '@shared/student/studentManifest';
import type { Logger } from '../logger';
import { sha256File } from '../util/sha256File';
import type { ExecutionProvider, StudentPrecision } from './avatarConfig';

export interface StudentFile {
  /** Absolute path of the ONNX file to load. */
  path: string;
  precision: StudentPrecision;
}

/**
 * floatPath: the identity's verified float model (IdentityAccess `modelPath`); the int8 file sits
 * beside it. Never throws for the variant: falls back to float with a warning.
 */
export async function chooseStudentFile(
  floatPath: string,
  manifest: StudentManifest,
  inference: { precision: StudentPrecision; executionProvider: ExecutionProvider },
  logger: Logger,
): Promise<StudentFile> {
  const variant = manifest.model.int8;
  if (inference.precision !== 'int8' || inference.executionProvider !== 'cpu' || !variant) {
    return { path: floatPath, precision: 'float32' };
  }
  const path = join(dirname(floatPath), variant.file);
  try {
    const sha256 = await sha256File(path);
    if (sha256 !== variant.sha256) throw new Error(`sha256 ${sha256.slice(0, 12)}…, manifest says ${variant.sha256.slice(0, 12)}…`);
  } catch (error) {
    logger.warn({ path, reason: error instanceof Error ? error.message : String(error) }, 'int8 student variant unusable: rendering with the float model');
    return { path: floatPath, precision: 'float32' };
  }
  return { path, precision: 'int8' };
}
