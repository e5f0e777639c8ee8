import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const integration = (engine: 'dynamodb-local' | 'dynalite') => ({
  extends: true as const,
  test: {
    name: engine,
    include: ['src/**/*.int.test.ts', 'examples/**/*.int.test.ts', 'test/**/*.int.test.ts'],
    globalSetup: ['test/engine-setup.ts'],
    env: { RACESAFE_TEST_ENGINE: engine },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  // Examples import the package by name: resolve it to the sources (the packaging test checks the built output).
  resolve: {
    alias: [
      { find: /^racesafe\/(testing|stream|tenant|cdk)$/, replacement: `${import.meta.dirname}/src/$1/index.ts` },
      { find: /^racesafe$/, replacement: `${import.meta.dirname}/src/index.ts` },
    ],
  },
  test: {
    // The AWS SDK warns once per process that it will soon need Node 22; in test output it is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // The integration files mostly wait on an engine (a JVM, or dynalite), not on this process: on a 2-core machine
    // vitest's default (cores - 1 = one file at a time) left a core idle and took over 12 minutes in CI.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['**/*.int.test.ts'],
        },
      },
      integration('dynamodb-local'),
      integration('dynalite'),
    ],
  },
});
