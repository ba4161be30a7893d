import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

// Shared by every package's vitest config. The `source` condition makes tests run the TypeScript sources of
// workspace packages instead of a possibly stale dist. PGlite starts in 2-3 s: default timeouts are too short.
export const sharedConfig: ViteUserConfig = {
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  resolve: { conditions: ['source'] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
};
