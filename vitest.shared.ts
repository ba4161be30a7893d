import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

// Shared by every package's vitest config. The `source` condition makes tests run the TypeScript sources of
// workspace packages instead of a possibly stale dist. PGlite starts in 2-3 s: default timeouts are too short.
// The timeouts only end a test that would never finish: they allow for a machine whose load is ten times its
// cores (a CI run beside others measured a load of 26 on 2 cores, where a test that takes 10 s alone took 31 s).
// No test waits for a time; each waits for its condition (apps/scim-gateway/test/support/wait.ts).
export const sharedConfig: ViteUserConfig = {
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  resolve: { conditions: ['source'] },
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
};
