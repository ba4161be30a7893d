import { defineProject } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineProject({
  plugins: [vue()],
  // The timeout only ends a test that would never finish; it allows for a fully loaded CI machine.
  test: { name: 'admin', environment: 'happy-dom', include: ['src/**/*.test.ts'], testTimeout: 60_000 },
});
