import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Root is client/; the `@shared` alias mirrors tsconfig.json so the browser bundles the same
// signalling schemas the server parses with. The e2e tests build with an inline `build.outDir`
// override (a content-keyed cache folder), which takes precedence over the one here.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: { alias: { '@shared': fileURLToPath(new URL('../shared/src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // Two pages: the call (index.html) and the identity admin (admin.html, served at /admin).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        admin: fileURLToPath(new URL('./admin.html', import.meta.url)),
      },
    },
  },
  logLevel: 'warn',
});
