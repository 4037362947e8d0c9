// Vitest configuration: unit and integration tests under test/, browser specs excluded (Playwright runs those).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    teardownTimeout: 10_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
