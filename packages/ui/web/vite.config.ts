import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = new URL('.', import.meta.url).pathname.replace(/\/$/, '');

// The server mounts dist/ at `/`; asset names carry a content hash so they can be cached for good.
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: { outDir: `${here}/../dist`, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/api': 'http://127.0.0.1:5000' } },
});
