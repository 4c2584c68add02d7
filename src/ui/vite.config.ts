import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// `npm run dev:ui` serves the UI with hot reload and proxies the API (WebSocket tail
// included) to a running `loggy server`; LOGGY_URL says where (default Loki's port).
const target = process.env.LOGGY_URL ?? 'http://127.0.0.1:3100';

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: here('../../dist/ui'),
    emptyOutDir: true,
    target: 'es2022',
    // Browsers with ES2022 modules preload natively; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    // Everything inline as data: URIs would need img-src/font-src exceptions; keep files.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/loki': { target, changeOrigin: true, ws: true },
      '/ready': { target, changeOrigin: true },
    },
  },
});
