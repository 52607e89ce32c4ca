import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { chromiumPath, headlessChromiumArgs } from '../../support/chromium';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const DEFAULT_MODEL_PATH = resolve(REPO_ROOT, '../shared/models/face_landmarker.task');
const PAGE_DIR = resolve(REPO_ROOT, 'test/tools/landmark-page');
const WASM_DIR = resolve(REPO_ROOT, 'node_modules/@mediapipe/tasks-vision/wasm');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
};

/** Where the page gets frames from and where its results go (extraction only). */
export type FrameExchange = {
  /** Frame i (RGBA), or null past the end; called with i = 0, 1, 2, … in order. */
  next: () => Promise<Buffer | null>;
  results: Map<number, Float32Array>;
};

export type LandmarkPageOptions = { modelPath?: string; frames?: FrameExchange };

/**
 * The headless-Chromium page of test/tools/landmark-page (built with Vite into a temp folder) on a
 * local server that also serves the MediaPipe wasm, the model and raw frames. Every non-local
 * request is refused and recorded in `foreignRequests`: nothing may load from a CDN.
 */
export class LandmarkPage {
  readonly page: Page;
  readonly origin: string;
  readonly foreignRequests: string[] = [];
  readonly pageErrors: string[] = [];
  readonly #browser: Browser;
  readonly #server: Server;
  readonly #buildDir: string;
  #closed = false;

  static async create(options: LandmarkPageOptions = {}): Promise<LandmarkPage> {
    const buildDir = await mkdtemp(join(tmpdir(), 'landmark-page-'));
    let server: Server | undefined;
    let browser: Browser | undefined;
    try {
      await build({ root: PAGE_DIR, configFile: false, logLevel: 'warn', build: { outDir: buildDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 } });
      server = await startPageServer(buildDir, resolve(options.modelPath ?? DEFAULT_MODEL_PATH), options.frames);
      browser = await chromium.launch({ executablePath: chromiumPath, args: headlessChromiumArgs });
      const page = await browser.newPage();
      const self = new LandmarkPage(page, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, browser, server, buildDir);
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(self.origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
        self.foreignRequests.push(url);
        return route.abort();
      });
      page.on('pageerror', (e) => self.pageErrors.push(e.message));
      await page.goto(`${self.origin}/index.html`);
      await page.waitForFunction(() => typeof window.runExtraction === 'function');
      return self;
    } catch (error) {
      await browser?.close();
      if (server) await new Promise<void>((done) => server!.close(() => done()));
      await rm(buildDir, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(page: Page, origin: string, browser: Browser, server: Server, buildDir: string) {
    this.page = page;
    this.origin = origin;
    this.#browser = browser;
    this.#server = server;
    this.#buildDir = buildDir;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#browser.close();
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
    await rm(this.#buildDir, { recursive: true, force: true });
  }
}

async function startPageServer(buildDir: string, modelPath: string, frames?: FrameExchange): Promise<Server> {
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
    if (frameMatch && frames) {
      // ffmpeg decodes forward only: the page asks for frames in order.
      if (Number(frameMatch[1]) !== nextFrame) return void res.writeHead(409).end('frames must be read in order');
      const frame = await frames.next();
      if (!frame) return void res.writeHead(404).end();
      nextFrame++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(frame);
    }
    if (resultMatch && frames && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      frames.results.set(Number(resultMatch[1]), new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)));
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
