/**
 * `config.onboarding`: where identities live, how uploads are limited, how the training CLI is
 * run, and how admins and participants authenticate. Every default runs with no set-up
 * (`npm start`); the environment variables are listed in `onboardingEnvVars`.
 */
import { delimiter, resolve } from 'node:path';
import { z } from 'zod';

/** A boolean that also accepts the strings an environment variable holds. */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => ['true', '1', 'yes'].includes(s))]);
/** A list of arguments: an array, or one string split on whitespace (from the environment). */
const argList = z.union([z.array(z.string()), z.string().transform((s) => s.split(/\s+/).filter(Boolean))]);

export function onboardingConfigSchema(absolutePath: z.ZodType<string, string>, repoRoot: string) {
  return z.object({
    /** Data directory: registry.sqlite, sources, student versions, job work directories. */
    dataDir: absolutePath.default(resolve(repoRoot, '.data')),
    /**
     * Bearer token of the admin API. Unset: a random one is generated at first start, stored in
     * `<dataDir>/admin-token` (mode 0600) and printed once.
     */
    adminToken: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
    /** HMAC secret of participants' join tokens (JWT, HS256). Unset: generated and kept in `<dataDir>/join-token-secret`. */
    joinTokenSecret: z.string().min(32, 'JOIN_TOKEN_SECRET must be at least 32 characters').optional(),
    /** Refuse `join` without a valid token (rooms listed in `openRooms` excepted). Off by default so `npm start` works. */
    requireJoinToken: flag.default(false),
    /** Rooms anyone may join without a token, and the identity anyone there may drive. */
    demo: z
      .object({ roomId: z.string().default('demo'), identityId: z.string().default('demo') })
      .prefault({}),
    /**
     * "Create my avatar" from the call page: `open` (anyone; the identity is granted in the demo
     * room, or the room of the caller's join token), `token` (a join token is required), `off`.
     */
    selfOnboarding: z.enum(['off', 'token', 'open']).default('open'),
    /** Self-onboarding jobs waiting or running at once, server-wide (more get 429). */
    maxPendingSelfJobs: z.number().int().min(1).default(2),
    uploads: z
      .object({
        /** Largest upload in bytes; a bigger body is cut short with 413. */
        maxBytes: z.number().int().min(1024).default(200 * 1024 * 1024),
        /** Largest image, checked from the header before anything decodes it. */
        maxImagePixels: z.number().int().min(1).default(40_000_000),
        maxImageSide: z.number().int().min(1).default(12_000),
        /** Largest clip frame and longest clip. */
        maxVideoPixels: z.number().int().min(1).default(3840 * 2160),
        maxClipSeconds: z.number().positive().default(60),
        /** Time allowed to the source check (face detection) per upload. */
        checkTimeoutMs: z.number().int().min(1000).default(120_000),
        /** Uploads checked at once; others wait (the check runs Python). */
        concurrentChecks: z.number().int().min(1).default(2),
      })
      .prefault({}),
    /** Training jobs run at once in this process (1 on a 2-core machine). */
    jobConcurrency: z.number().int().min(0).default(1),
    /** The Python student tools (`python -m <module> …` in `cwd` with `pythonPath` prepended). */
    python: z
      .object({
        executable: absolutePath.default(resolve(repoRoot, 'models/.venv/bin/python')),
        cwd: absolutePath.default(resolve(repoRoot, 'models')),
        /** Prepended to PYTHONPATH; from the environment, a `:`-separated list. */
        pythonPath: z
          .preprocess((v) => (typeof v === 'string' ? v.split(delimiter).filter(Boolean) : v), z.array(absolutePath))
          .default([resolve(repoRoot, 'models')]),
        trainModule: z.string().min(1).default('avatar_ml.student.train'),
        checkModule: z.string().min(1).default('avatar_ml.student.check_source'),
        /**
         * Wall-time budget of one training run by source kind (s; 0 = none), passed as
         * `--time-budget-s`: the trainer shortens its step count to finish in time (issue 8's
         * targets: ≤ 15 min for a clip, ≤ 10 min for a portrait, with a minute of margin each).
         */
        timeBudgetS: z
          .object({ clip: z.number().min(0).default(840), portrait: z.number().min(0).default(540) })
          .prefault({}),
        /** Extra arguments to every training run, e.g. ['--preset', 'fast']. */
        trainArgs: argList.default([]),
        checkArgs: argList.default([]),
        /** OMP/MKL threads of each Python process. */
        threads: z.number().int().min(1).default(1),
        /** `nice` value of training processes (0 = normal priority). */
        niceness: z.number().int().min(0).max(19).default(10),
      })
      .prefault({}),
  });
}

export const onboardingEnvVars = {
  DATA_DIR: ['onboarding', 'dataDir'],
  ADMIN_TOKEN: ['onboarding', 'adminToken'],
  JOIN_TOKEN_SECRET: ['onboarding', 'joinTokenSecret'],
  REQUIRE_JOIN_TOKEN: ['onboarding', 'requireJoinToken'],
  SELF_ONBOARDING: ['onboarding', 'selfOnboarding'],
  MAX_UPLOAD_BYTES: ['onboarding', 'uploads', 'maxBytes'],
  MAX_CLIP_SECONDS: ['onboarding', 'uploads', 'maxClipSeconds'],
  JOB_CONCURRENCY: ['onboarding', 'jobConcurrency'],
  TRAIN_PYTHON: ['onboarding', 'python', 'executable'],
  TRAIN_PYTHONPATH: ['onboarding', 'python', 'pythonPath'],
  TRAIN_CWD: ['onboarding', 'python', 'cwd'],
  TRAIN_ARGS: ['onboarding', 'python', 'trainArgs'],
} as const satisfies Record<string, readonly string[]>;

export const onboardingNumericPaths = ['onboarding.uploads.maxBytes', 'onboarding.uploads.maxClipSeconds', 'onboarding.jobConcurrency'];
