/**
 * The server's one typed configuration: embedded defaults that run with no external services,
 * overridable from environment variables (read only by main.ts, passed in here) and from code
 * (tests pass `{ http: { port: 0 } }`). Parsed once at start-up; invalid input fails loudly with
 * every bad key listed.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { onboardingConfigSchema, onboardingEnvVars, onboardingNumericPaths } from './identities/onboardingConfig';
import { motionStreamConfigSchema } from './motion/motionStreamConfig';
import { avatarConfigSchema } from './avatar/avatarConfig';

/** Repository root, so default paths work whatever the current directory is. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const port = z.number().int().min(0).max(65535);
const rtcPort = z.number().int().min(1024).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const absolutePath = z
  .string()
  .min(1)
  .transform((p) => (isAbsolute(p) ? p : resolve(repoRoot, p)));

export const configSchema = z
  .object({
    http: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(3000),
        /**
         * Behind a reverse proxy: count per-address limits by the first X-Forwarded-For entry
         * instead of the proxy's own address. Only set it when a proxy you run sets that header.
         */
        trustProxy: z.boolean().default(false),
      })
      .prefault({}),
    log: z.object({ level: logLevel.default('info') }).prefault({}),
    mediasoup: z
      .object({
        numWorkers: z.number().int().min(1).max(64).default(() => availableParallelism()),
        workerLogLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
        /** Address the RTC sockets bind to. */
        listenIp: z.string().min(1).default('0.0.0.0'),
        /** Address put in ICE candidates: what browsers connect to. */
        announcedIp: z.string().min(1).default('127.0.0.1'),
        rtcMinPort: rtcPort.default(40000),
        rtcMaxPort: rtcPort.default(49999),
        initialAvailableOutgoingBitrate: z.number().int().positive().default(1_000_000),
        /** Largest data-channel message accepted from a peer (SCTP) and read by server code. */
        maxSctpMessageBytes: z.number().int().min(1024).max(1_048_576).default(262_144),
        /** Delay before a worker that died is replaced again after a failed replacement. */
        workerRestartDelayMs: z.number().int().min(0).default(1000),
      })
      .prefault({}),
    limits: z
      .object({
        maxPeersPerRoom: z.number().int().min(1).default(16),
        maxRooms: z.number().int().min(1).default(1000),
        maxTransportsPerPeer: z.number().int().min(1).default(4),
        maxProducersPerPeer: z.number().int().min(1).default(8),
        maxDataProducersPerPeer: z.number().int().min(1).default(8),
        maxConsumersPerPeer: z.number().int().min(1).default(512),
        /** Token bucket per socket: sustained requests per second and burst size. */
        requestsPerSecond: z.number().positive().default(50),
        requestBurst: z.number().int().min(1).default(200),
        /** Largest single signalling request (JSON); bigger ones get PAYLOAD_TOO_LARGE. */
        maxRequestBytes: z.number().int().min(256).default(64 * 1024),
        /** A room left without a human (e.g. its creator's join failed) is closed after this. */
        emptyRoomTimeoutMs: z.number().int().min(0).default(30_000),
        /** Joins one connection may make: sustained per minute and burst (RATE_LIMITED past it). */
        joinsPerMinutePerConnection: z.number().positive().default(30),
        joinBurstPerConnection: z.number().int().min(1).default(10),
        /** Open signalling connections from one client address (/64 for IPv6). */
        maxConnectionsPerAddress: z.number().int().min(1).default(64),
        /** New rooms (a Router each) one client address may create: per minute, burst, and open at once. */
        roomCreationsPerMinutePerAddress: z.number().positive().default(30),
        roomCreationBurstPerAddress: z.number().int().min(1).default(10),
        maxRoomsPerAddress: z.number().int().min(1).default(50),
      })
      .prefault({}),
    /** Avatar-mode motion uplink: jitter buffer, rate limit, validation (server/src/motion/). */
    motion: motionStreamConfigSchema.prefault({}),
    /** Avatar rendering: frame rate, inference, encoder, identities and grants (server/src/avatar/). */
    avatar: avatarConfigSchema.prefault({}),
    /** Built browser client (vite outDir). */
    clientDistDir: absolutePath.default(resolve(repoRoot, 'client/dist')),
    /** MediaPipe Face Landmarker bundle served to browsers at /models/face_landmarker.task. */
    faceLandmarkerModelPath: absolutePath.default(resolve(repoRoot, '../shared/models/face_landmarker.task')),
    /** Identity registry, uploads, training queue, grants (server/src/identities/). */
    onboarding: onboardingConfigSchema(absolutePath, repoRoot).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.mediasoup.rtcMinPort > c.mediasoup.rtcMaxPort) {
      ctx.addIssue({
        code: 'custom',
        path: ['mediasoup', 'rtcMinPort'],
        message: 'rtcMinPort must not exceed rtcMaxPort',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export type PartialDeep<T> = T extends object ? { [K in keyof T]?: PartialDeep<T[K]> } : T;

/** Environment variable → config path. Values are strings; numbers are coerced. */
const envVars = {
  HOST: ['http', 'host'],
  PORT: ['http', 'port'],
  LOG_LEVEL: ['log', 'level'],
  NUM_WORKERS: ['mediasoup', 'numWorkers'],
  MEDIASOUP_LOG_LEVEL: ['mediasoup', 'workerLogLevel'],
  LISTEN_IP: ['mediasoup', 'listenIp'],
  ANNOUNCED_IP: ['mediasoup', 'announcedIp'],
  RTC_MIN_PORT: ['mediasoup', 'rtcMinPort'],
  RTC_MAX_PORT: ['mediasoup', 'rtcMaxPort'],
  MAX_PEERS_PER_ROOM: ['limits', 'maxPeersPerRoom'],
  MAX_ROOMS: ['limits', 'maxRooms'],
  REQUESTS_PER_SECOND: ['limits', 'requestsPerSecond'],
  TRUST_PROXY: ['http', 'trustProxy'],
  JOINS_PER_MINUTE_PER_CONNECTION: ['limits', 'joinsPerMinutePerConnection'],
  MAX_CONNECTIONS_PER_ADDRESS: ['limits', 'maxConnectionsPerAddress'],
  ROOM_CREATIONS_PER_MINUTE_PER_ADDRESS: ['limits', 'roomCreationsPerMinutePerAddress'],
  MAX_ROOMS_PER_ADDRESS: ['limits', 'maxRoomsPerAddress'],
  CLIENT_DIST_DIR: ['clientDistDir'],
  FACE_LANDMARKER_MODEL_PATH: ['faceLandmarkerModelPath'],
  MOTION_TARGET_DELAY_MS: ['motion', 'targetDelayMs'],
  MOTION_MAX_PACKETS_PER_SECOND: ['motion', 'maxPacketsPerSecond'],
  AVATAR_FPS: ['avatar', 'fps'],
  AVATAR_EXECUTION_PROVIDER: ['avatar', 'inference', 'executionProvider'],
  AVATAR_INTRA_OP_THREADS: ['avatar', 'inference', 'intraOpThreads'],
  AVATAR_PRECISION: ['avatar', 'inference', 'precision'],
  AVATAR_BITRATE_KBPS: ['avatar', 'encoder', 'bitrateKbps'],
  ...onboardingEnvVars,
} as const satisfies Record<string, readonly string[]>;

const booleanPaths = new Set(['http.trustProxy']);

const numericPaths = new Set([
  'http.port',
  'mediasoup.numWorkers',
  'mediasoup.rtcMinPort',
  'mediasoup.rtcMaxPort',
  'limits.maxPeersPerRoom',
  'limits.maxRooms',
  'limits.requestsPerSecond',
  'limits.joinsPerMinutePerConnection',
  'limits.maxConnectionsPerAddress',
  'limits.roomCreationsPerMinutePerAddress',
  'limits.maxRoomsPerAddress',
  'motion.targetDelayMs',
  'motion.maxPacketsPerSecond',
  'avatar.fps',
  'avatar.inference.intraOpThreads',
  'avatar.encoder.bitrateKbps',
  ...onboardingNumericPaths,
]);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Json = Record<string, unknown>;

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    const bothObjects =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof prev === 'object' && prev !== null;
    out[key] = bothObjects ? deepMerge(prev as Json, value as Json) : value;
  }
  return out;
}

/**
 * Builds the config: defaults ← environment ← overrides. Throws ConfigError naming every bad key
 * (as the environment variable when it came from one).
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: PartialDeep<ConfigInput> = {}): Config {
  const fromEnv: Json = {};
  const envNameOfPath = new Map<string, string>();
  for (const [name, path] of Object.entries(envVars)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const dotted = path.join('.');
    envNameOfPath.set(dotted, name);
    // Non-numeric text stays a string so zod reports it as the wrong type under the env name.
    const value =
      numericPaths.has(dotted) && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)
        ? Number(raw)
        : booleanPaths.has(dotted) && /^\s*(true|false|1|0)\s*$/i.test(raw)
          ? /^\s*(true|1)\s*$/i.test(raw)
          : raw;
    setPath(fromEnv, path, value);
  }
  const result = configSchema.safeParse(deepMerge(fromEnv, overrides as Json));
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const dotted = issue.path.join('.');
        const envName = envNameOfPath.get(dotted);
        return `${envName ? `${envName} (${dotted})` : dotted || '(root)'}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}
