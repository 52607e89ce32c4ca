/**
 * Serves MediaPipe's tasks-vision wasm runtime from node_modules so the browser's FaceTracker
 * (client/src/tracking/FaceTracker.ts, default wasmBaseUrl '/mediapipe/wasm') never loads it
 * from a CDN. Mount with: app.use(MEDIAPIPE_WASM_PATH, mediapipeWasmRoute()).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type RequestHandler } from 'express';

export const MEDIAPIPE_WASM_PATH = '/mediapipe/wasm';

export function mediapipeWasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@mediapipe/tasks-vision')), 'wasm');
}

export function mediapipeWasmRoute(): RequestHandler {
  // express.static sets application/wasm for .wasm, which streaming compilation needs.
  return express.static(mediapipeWasmDir(), { index: false, maxAge: '1d', fallthrough: false });
}
