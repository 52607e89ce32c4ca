import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { BROWSER_LANDMARKS_FORMAT } from './browserLandmarksFormat';
import type { BrowserLandmarkFrame, BrowserLandmarks } from './browserLandmarksFormat';
import { readBrowserLandmarks, writeBrowserLandmarks } from './browserLandmarksFile';
import { FfmpegFrameReader } from './FfmpegFrameReader';
import { probeClip } from './probeClip';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const DEFAULT_MODEL_PATH = resolve(REPO_ROOT, '../shared/models/face_landmarker.task');
export const DEFAULT_CACHE_DIR = resolve(REPO_ROOT, '.data/landmarks');
const PAGE_DIR = resolve(REPO_ROOT, 'test/tools/landmark-page');
const WASM_DIR = resolve(REPO_ROOT, 'node_modules/@mediapipe/tasks-vision/wasm');
const TASKS_VISION_VERSION = '@mediapipe/tasks-vision@0.10.35';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export type ExtractOptions = {
  clip: string;
  /** Only the first N frames. */
  frames?: number;
  modelPath?: string;
  /** Cache folder (gitignored); outputs are keyed by the clip's sha256 and the frame limit. */
  cacheDir?: string;
  useCache?: boolean;
  log?: (message: string) => void;
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
};

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function cachePathFor(cacheDir: string, clip: string, clipSha256: string, frames?: number): string {
  return join(cacheDir, `${basename(clip, extname(clip))}-${clipSha256.slice(0, 16)}-${frames ?? 'all'}.json`);
}

/** Runs a clip's frames through the product's FaceTracker in headless Chromium (cached on disk). */
export async function extractBrowserLandmarks(options: ExtractOptions): Promise<BrowserLandmarks> {
  const log = options.log ?? (() => {});
  const clip = resolve(options.clip);
  const modelPath = resolve(options.modelPath ?? DEFAULT_MODEL_PATH);
  const clipSha256 = await sha256File(clip);
  const cachePath = cachePathFor(options.cacheDir ?? DEFAULT_CACHE_DIR, clip, clipSha256, options.frames);
  if (options.useCache !== false && existsSync(cachePath)) {
    log(`cached: ${cachePath}`);
    return readBrowserLandmarks(cachePath);
  }
  const info = await probeClip(clip);
  const maxFrames = options.frames ?? info.frameCount ?? 100_000;
  const buildDir = await mkdtemp(join(tmpdir(), 'landmark-page-'));
  let server: Server | undefined;
  let reader: FfmpegFrameReader | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    await build({ root: PAGE_DIR, configFile: false, logLevel: 'warn', build: { outDir: buildDir, emptyOutDir: true } });
    reader = FfmpegFrameReader.create(clip, info.width, info.height, maxFrames);
    const results = new Map<number, Float32Array>();
    server = await startPageServer({ buildDir, modelPath, reader, results });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const foreign: string[] = [];
    // Nothing may leave the machine: any non-local request (CDN, telemetry) is recorded and refused.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => typeof window.runExtraction === 'function');
    log(`tracking ${clip} (${info.width}x${info.height} @ ${info.fps} fps, up to ${maxFrames} frames) in Chromium`);
    const summary = await page.evaluate((o) => window.runExtraction(o), { frameCount: maxFrames, width: info.width, height: info.height, fps: info.fps });
    if (foreign.length) throw new Error(`the page tried to reach foreign hosts: ${foreign.join(', ')}`);
    if (pageErrors.length) log(`page errors: ${pageErrors.join('; ')}`);
    const frames: BrowserLandmarkFrame[] = [];
    for (let i = 0; i < summary.frames; i++) {
      const r = results.get(i);
      const present = !!r && r.length === 478 * 3 + 16 + 52;
      frames.push({
        index: i,
        timestampMs: (i * 1000) / info.fps,
        present,
        landmarks: present ? Array.from(r.subarray(0, 478 * 3)) : null,
        matrix: present ? Array.from(r.subarray(478 * 3, 478 * 3 + 16)) : null,
        blendshapes: present ? Array.from(r.subarray(478 * 3 + 16)) : null,
      });
    }
    const data: BrowserLandmarks = {
      format: BROWSER_LANDMARKS_FORMAT,
      clip: basename(clip),
      clipSha256,
      width: info.width,
      height: info.height,
      fps: info.fps,
      frameCount: frames.length,
      trackedCount: summary.tracked,
      meanDetectMs: summary.meanDetectMs,
      tracker: { package: TASKS_VISION_VERSION, modelSha256: await sha256File(modelPath), delegate: 'CPU' },
      blendshapeNames: [...summary.blendshapeNames],
      createdAt: new Date().toISOString(),
      frames,
    };
    await writeBrowserLandmarks(cachePath, data);
    log(`tracked ${summary.tracked}/${frames.length} frames, ${summary.meanDetectMs.toFixed(1)} ms/frame; cached ${cachePath}`);
    return data;
  } finally {
    await browser?.close();
    reader?.close();
    if (server) await new Promise<void>((done) => server!.close(() => done()));
    await rm(buildDir, { recursive: true, force: true });
  }
}

type PageServerOptions = { buildDir: string; modelPath: string; reader: FfmpegFrameReader; results: Map<number, Float32Array> };

async function startPageServer({ buildDir, modelPath, reader, results }: PageServerOptions): Promise<Server> {
  let nextFrame = 0;
  const sendFile = async (res: ServerResponse, root: string, rel: string) => {
    const path = normalize(join(root, rel));
    if (!path.startsWith(root) || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(await readFile(path));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const frameMatch = /^\/frame\/(\d+)$/.exec(url.pathname);
    const resultMatch = /^\/result\/(\d+)$/.exec(url.pathname);
    if (frameMatch) {
      // ffmpeg decodes forward only: the page asks for frames in order.
      if (Number(frameMatch[1]) !== nextFrame) return void res.writeHead(409).end('frames must be read in order');
      const frame = await reader.next();
      if (!frame) return void res.writeHead(404).end();
      nextFrame++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(frame);
    }
    if (resultMatch && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      results.set(Number(resultMatch[1]), new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)));
      return void res.writeHead(204).end();
    }
    if (url.pathname === '/model/face_landmarker.task') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(await readFile(modelPath));
    }
    if (url.pathname.startsWith('/wasm/')) return sendFile(res, WASM_DIR, url.pathname.slice('/wasm/'.length));
    return sendFile(res, buildDir, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}
