import { defineConfig } from 'vite';

// The app loads the built files from the embedded dist/ (no dev server, no remote content).
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2021',
    sourcemap: false,
    // Inline nothing: the CSP forbids inline scripts and styles.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  // Tests read the one list of the app's commands (src/commands.test.ts).
  server: { fs: { allow: ['.', '../src-tauri/src/gui/commands'] } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
