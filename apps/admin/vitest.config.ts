import { defineProject } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineProject({
  plugins: [vue()],
  test: { name: 'admin', environment: 'happy-dom', include: ['src/**/*.test.ts'] },
});
