/**
 * One StudentModel per model file, shared by every session that renders that identity:
 * `acquire()` loads it on first use (concurrent callers share the load) and tells it how many
 * sessions share it (its worker pool grows with them), `release()` closes it when the last holder
 * lets go. A model that fails to load is not cached. The file is the float student or its int8
 * variant, as `inference.precision` asks (studentFile.ts); models are keyed by the file loaded.
 * An int8 variant that passes its sha256 check but does not load (or fails its warm-up) is logged
 * and the float file serves instead, as for a missing or altered variant: the optional file never
 * stops an avatar.
 */
import type { StudentManifest } from '@shared/student/studentManifest';
import type { Logger } from '../logger';
import type { AvatarConfig, StudentPrecision } from './avatarConfig';
import { StudentModel } from './StudentModel';
import { chooseStudentFile } from './studentFile';

type Entry = { loading: Promise<StudentModel>; holders: number };

export class StudentModelRegistry {
  readonly #inference: AvatarConfig['inference'];
  readonly #logger: Logger;
  readonly #models = new Map<string, Entry>();

  constructor(options: { inference: AvatarConfig['inference']; logger: Logger }) {
    this.#inference = options.inference;
    this.#logger = options.logger;
  }

  /** Loaded models (for tests and metrics). */
  get size(): number {
    return this.#models.size;
  }

  /** modelPath: the identity's verified float model (IdentityAccess); throws StudentLoadError. */
  async acquire(floatModelPath: string, manifest: StudentManifest): Promise<StudentModel> {
    const choice = await chooseStudentFile(floatModelPath, manifest, this.#inference, this.#logger);
    if (choice.precision === 'float32') return this.#acquire(choice.path, choice.precision, manifest);
    try {
      return await this.#acquire(choice.path, choice.precision, manifest);
    } catch (error) {
      this.#logger.warn(
        { path: choice.path, reason: error instanceof Error ? error.message : String(error) },
        'int8 student variant failed to load: rendering with the float model',
      );
      return this.#acquire(floatModelPath, 'float32', manifest);
    }
  }

  async #acquire(modelPath: string, precision: StudentPrecision, manifest: StudentManifest): Promise<StudentModel> {
    let entry = this.#models.get(modelPath);
    if (!entry) {
      const loading = StudentModel.load({
        modelPath,
        precision,
        manifest,
        executionProvider: this.#inference.executionProvider,
        intraOpThreads: this.#inference.intraOpThreads,
        interOpThreads: this.#inference.interOpThreads,
        workersPerModel: this.#inference.workersPerModel,
        restartDelayMs: this.#inference.restartDelayMs,
        logger: this.#logger,
      });
      entry = { loading, holders: 0 };
      this.#models.set(modelPath, entry);
      loading.catch(() => {
        if (this.#models.get(modelPath) === entry) this.#models.delete(modelPath);
      });
    }
    entry.holders += 1;
    try {
      const model = await entry.loading;
      model.setDemand(entry.holders);
      return model;
    } catch (error) {
      entry.holders -= 1;
      throw error;
    }
  }

  /** One holder lets go; the last one closes the model (its worker and InferenceSession). */
  async release(model: StudentModel): Promise<void> {
    const entry = this.#models.get(model.modelPath);
    if (!entry) return;
    entry.holders -= 1;
    if (entry.holders > 0) {
      model.setDemand(entry.holders);
      return;
    }
    this.#models.delete(model.modelPath);
    await model.close();
  }

  /** Closes every model. */
  async close(): Promise<void> {
    const entries = [...this.#models.values()];
    this.#models.clear();
    await Promise.all(entries.map((e) => e.loading.then((m) => m.close()).catch(() => undefined)));
  }
}
