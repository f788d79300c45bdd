import { defineConfig } from 'vitest/config';

// One root config: every package's tests run in one vitest process. Workspace packages are
// resolved to their TypeScript sources through the `@faaskeeper/source` export condition, so
// tests never depend on a stale build.
export default defineConfig({
  resolve: { conditions: ['@faaskeeper/source'] },
  ssr: { resolve: { conditions: ['@faaskeeper/source'] } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'providers/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'examples/*/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    allowOnly: false,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
