/**
 * Builds the console (a React single-page app) into dist/console, which `thicket serve` serves at `/`.
 * `base: './'` keeps every asset URL relative, so the page works behind any prefix and never reaches outside
 * the gateway (no CDN: fonts, styles and scripts are all in the bundle).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // One app, loaded once from the local gateway: a single bundle is simpler than split chunks.
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
