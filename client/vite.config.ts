import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Root is client/; the `@shared` alias mirrors tsconfig.json so the browser bundles the same
// signalling schemas the server parses with. `AVATAR_CLIENT_OUT_DIR` lets the e2e tests build
// into a content-keyed cache folder instead of client/dist (read here because this file is the
// build tool's CLI entry).
const outDir = process.env.AVATAR_CLIENT_OUT_DIR ?? fileURLToPath(new URL('./dist', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: { alias: { '@shared': fileURLToPath(new URL('../shared/src', import.meta.url)) } },
  build: { outDir, emptyOutDir: true, sourcemap: true, target: 'es2022' },
  logLevel: 'warn',
});
