import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { consumerBundling } from 'racesafe/cdk';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const publicApi = [
  'defineTable',
  'putIfNewer',
  'updateIfNewer',
  'deleteIfNotNewer',
  'updateWithLock',
  'guardedUpdate',
  'transaction',
  'RacesafeError',
];

describe('the built package', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'ignore', timeout: 180_000 });
  }, 200_000);

  it('exposes the API as ESM and CJS through the exports map, with types listed first', () => {
    // A child process resolves 'racesafe' the way users do: through package.json's exports (a self-reference).
    const probe = (code: string, type: 'module' | 'commonjs') =>
      execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { encoding: 'utf8' }).trim();
    const names = JSON.stringify(publicApi);
    const esm = `const m = await import('racesafe'); const t = await import('racesafe/testing');
      console.log(JSON.stringify([...${names}.map((n) => typeof m[n]), typeof t.startDynamoDB, typeof t.defineCheck]));`;
    const cjs = `const m = require('racesafe'); const t = require('racesafe/testing');
      console.log(JSON.stringify([...${names}.map((n) => typeof m[n]), typeof t.startDynamoDB, typeof t.defineCheck]));`;
    const expected = JSON.stringify(new Array(publicApi.length + 2).fill('function'));
    expect(probe(esm, 'module')).toBe(expected);
    expect(probe(cjs, 'commonjs')).toBe(expected);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    for (const entry of Object.values(pkg.exports) as Array<string | Record<string, Record<string, string>>>) {
      if (typeof entry === 'string') continue;
      for (const condition of Object.values(entry)) {
        expect(Object.keys(condition)[0]).toBe('types');
        for (const file of Object.values(condition)) expect(existsSync(file), file).toBe(true);
      }
    }
  });

  it('ships a runnable CLI', () => {
    const help = execFileSync(process.execPath, ['dist/cli/main.js', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/racesafe lab/);
    expect(readFileSync('dist/cli/main.js', 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it('loads, at import time, only the packages its install instructions name', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const optional = new Set(Object.keys(pkg.peerDependenciesMeta ?? {}));
    const required = [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((name) => !optional.has(name)),
    ];
    // README's "Test your own code" section: the extra packages racesafe/testing needs.
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Test your own code'));
    const testingInstall = /npm i -D ([^`\n]+)/.exec(section)?.[1]?.split(/\s+/) ?? [];
    expect(testingInstall).not.toEqual([]);
    const allowed = {
      'dist/index.js': required,
      'dist/stream/index.js': required,
      // racesafe/tenant loads @aws-sdk/credential-providers (an optional peer) only when tenantClients first needs it.
      'dist/tenant/index.js': required,
      'dist/testing/index.js': [...required, ...testingInstall],
    };
    for (const [entry, names] of Object.entries(allowed)) {
      const missing = staticPackageImports(entry).filter((name) => !names.includes(name));
      expect(missing, `${entry} imports packages a user following the README may not have`).toEqual([]);
    }
  });

  it('type-checks a fresh strict project that installed only the README line, with real (not any) handler types', {
    timeout: 120_000,
  }, () => {
    const project = freshProject();
    try {
      writeFileSync(
        join(project, 'consumer.ts'),
        [
          "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
          "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
          "import { defineTable, powertoolsTracer, putIfNewer } from 'racesafe';",
          "import { kinesisHandler, sqsDeadLetterSink } from 'racesafe/stream';",
          "const state = defineTable({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), name: 't', partitionKey: 'pk', observe: powertoolsTracer({ getSegment: () => undefined }) });",
          'export const handler = kinesisHandler({',
          '  parse: (payload) => payload as { pk: string; version: number },',
          '  key: (event) => event.pk,',
          '  handle: (event, record) => putIfNewer(state, event, record.callOptions),',
          "  onPoison: sqsDeadLetterSink({ client: { send: async () => ({}) }, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }),",
          '});',
          '// The handler is typed from @types/aws-lambda (a dependency of racesafe), not any: a wrong event is an error.',
          '// @ts-expect-error a number is not a Kinesis event',
          'void handler(1);',
          'export type Failures = Awaited<ReturnType<typeof handler>>["batchItemFailures"];',
          '',
        ].join('\n'),
      );
      const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
      const result = spawnSyncText(process.execPath, [tsc, '-p', project]);
      expect(result, 'tsc on a fresh strict project (skipLibCheck off)').toBe('');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('bundles racesafe/stream with the AWS SDK inside and @aws-sdk/client-sqs not installed (esbuild)', {
    timeout: 120_000,
  }, async () => {
    const project = freshProject();
    try {
      writeFileSync(
        join(project, 'entry.mjs'),
        "export { kinesisHandler, sqsDeadLetterSink } from 'racesafe/stream';\nexport { putIfNewer } from 'racesafe';\n",
      );
      const esbuild = await import('esbuild');
      const result = await esbuild.build({
        entryPoints: [join(project, 'entry.mjs')],
        absWorkingDir: project,
        bundle: true,
        platform: 'node',
        format: 'esm',
        write: false,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      expect(result.outputFiles[0]?.text).not.toContain('SendMessageCommand=');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('is free of side effects at import, as its package.json tells bundlers ("sideEffects": false)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    // The packages racesafe imports are loaded first (their own effects are theirs); then every entry point is
    // imported, and nothing a module could change on load may differ: globals, the built-in prototypes, process
    // listeners, the environment, timers and handles, the exit code, and the output.
    const entries = Object.keys(pkg.exports)
      .filter((entry) => entry !== './package.json')
      .map((entry) => entry.replace(/^\./, 'racesafe'));
    const packages = [...new Set(entries.flatMap((entry) => staticPackageImports(distEntry(entry))))];
    const probe = `
      for (const name of ${JSON.stringify(packages)}) await import(name);
      const protos = [Object, Array, String, Number, Function, Promise, Error, Map, Set, RegExp, Date, Symbol];
      const snapshot = () => JSON.stringify({
        globals: Reflect.ownKeys(globalThis).map(String).sort(),
        prototypes: protos.map((type) => Reflect.ownKeys(type.prototype).map(String).sort()),
        statics: protos.map((type) => Reflect.ownKeys(type).map(String).sort()),
        listeners: process.eventNames().map((name) => [String(name), process.listenerCount(name)]),
        env: Object.entries(process.env).sort(),
        resources: process.getActiveResourcesInfo().sort(),
        exitCode: process.exitCode ?? null,
      });
      const before = snapshot();
      for (const entry of ${JSON.stringify(entries)}) await import(entry);
      const after = snapshot();
      process.stdout.write(before === after ? 'unchanged' : 'changed: ' + before + ' -> ' + after);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(entries).toContain('racesafe/cdk');
    expect(output).toBe('unchanged');
  });

  it('publishes declarations that import only its dependencies and declared peers', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const declared = new Set([
      pkg.name,
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);
    const declarations = listFiles('dist').filter((file) => /\.d\.c?ts$/.test(file));
    expect(declarations.length).toBeGreaterThan(5);
    const imported = new Map<string, string[]>();
    for (const file of declarations) {
      for (const name of declarationPackageImports(readFileSync(file, 'utf8'))) {
        imported.set(name, [...(imported.get(name) ?? []), file]);
      }
    }
    // The walk sees real imports (not an empty list), and the check catches the kind of import that shipped once.
    expect([...imported.keys()]).toEqual(expect.arrayContaining(['@aws-sdk/lib-dynamodb', 'aws-lambda']));
    expect(declarationPackageImports("import type { AwsCredentialIdentity } from '@aws-sdk/types';")).toEqual([
      '@aws-sdk/types',
    ]);
    // A TSDoc example is a comment, not an import.
    expect(declarationPackageImports("/**\n * import { z } from 'zod';\n */\nexport {};")).toEqual([]);
    const undeclared = [...imported].filter(
      ([name]) => !declared.has(name) && !declared.has(`@types/${name.replace(/^@([^/]+)\//, '$1__')}`),
    );
    expect(Object.fromEntries(undeclared), 'imported by published declarations, but not a dependency or peer').toEqual(
      {},
    );
  });

  it("bundles a Kinesis consumer as NodejsFunction does, within its budget, and reports racesafe's bytes apart", {
    timeout: 120_000,
  }, async () => {
    const project = freshProject();
    try {
      // Powertools Metrics is the user's own dependency when they use the adapter: linked, and counted apart.
      for (const name of ['@aws-lambda-powertools/metrics', '@smithy/core']) {
        const target = join(project, 'node_modules', name);
        if (existsSync(target)) continue;
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(realpathSync(resolve('node_modules', name)), target);
      }
      writeFileSync(
        join(project, 'kinesis-consumer.mjs'),
        [
          "import { Metrics } from '@aws-lambda-powertools/metrics';",
          "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
          "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
          "import { defineTable, powertoolsMetrics, putIfNewer } from 'racesafe';",
          "import { kinesisHandler } from 'racesafe/stream';",
          'const metrics = new Metrics();',
          "const state = defineTable({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), name: 'state', partitionKey: 'key' });",
          'export const handler = kinesisHandler({',
          '  parse: (payload) => payload,',
          '  key: (event) => event.key,',
          '  handle: (event, record) => putIfNewer(state, event, record.callOptions),',
          '  observe: powertoolsMetrics(metrics),',
          '});',
          '',
        ].join('\n'),
      );
      // The same consumer with the other sources and the SQS dead-letter sink: the markers below are in the package.
      writeFileSync(
        join(project, 'every-source.mjs'),
        "export { dynamoDBStreamHandler, sqsHandler, sqsDeadLetterSink } from 'racesafe/stream';\n",
      );
      const kinesisOnly = await bundleAsNodejsFunction(project, 'kinesis-consumer.mjs');
      const everySource = await bundleAsNodejsFunction(project, 'every-source.mjs');
      // String literals of the DynamoDB Streams and SQS sources and of the SQS dead-letter sink (minified output).
      const notUsed = ['"dynamoDBStreamHandler"', '"sqsHandler"', '"racesafe-poison"', '"@aws-sdk/client-sqs"'];
      for (const marker of notUsed) {
        expect(everySource.code, marker).toContain(marker);
        expect(kinesisOnly.code, `tree-shaken from a Kinesis-only consumer: ${marker}`).not.toContain(marker);
      }
      const { total, byPackage } = kinesisOnly;
      if (process.env.RACESAFE_BUNDLE_OUT) writeFileSync(process.env.RACESAFE_BUNDLE_OUT, kinesisOnly.code);
      console.log(
        `Kinesis consumer (kinesisHandler + putIfNewer + powertoolsMetrics; ESM, node22, minified, SDK external): ${total} B;`,
        Object.entries(byPackage)
          .map(([name, bytes]) => `${name} ${bytes} B`)
          .join(', '),
      );
      expect(kinesisOnly.code).toMatch(/from"@aws-sdk\/lib-dynamodb"/);
      // Budgets, in bytes (a bundle's size is deterministic for a locked tree): racesafe's own code, the SDK's
      // throttling classifier (@smithy/core/retry, whose index also builds the retry middleware at load), and all.
      expect(byPackage.racesafe).toBeLessThan(36 * 1024);
      expect(byPackage['@smithy/core'] ?? 0).toBeLessThan(14 * 1024);
      expect(total).toBeLessThan(64 * 1024);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('packs a LICENSE and no source maps', { timeout: 60_000 }, () => {
    const files = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--silent'], { encoding: 'utf8' }))[0]
      .files as Array<{ path: string }>;
    const paths = files.map((file) => file.path);
    expect(paths).toContain('LICENSE');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
  });
});

/** The built ES module file of a package entry point ('racesafe/stream' -> dist/stream/index.js). */
function distEntry(entry: string): string {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  return pkg.exports[entry.replace(/^racesafe/, '.')].import.default;
}

/** Every file under a directory. */
function listFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(directory, entry.name)) : [join(directory, entry.name)],
  );
}

/** The packages a declaration file imports (imports, import types, type references), read by TypeScript itself. */
function declarationPackageImports(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const specifiers = [
    ...info.importedFiles.map((file) => file.fileName),
    ...info.typeReferenceDirectives.map((reference) => reference.fileName),
  ];
  const packages = specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .filter((specifier) => !builtinModules.includes(specifier) && specifier !== 'node')
    .map((specifier) => {
      const parts = specifier.split('/');
      return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
    });
  return [...new Set(packages)];
}

/**
 * Bundles a file with esbuild the way NodejsFunction does with racesafe's `consumerBundling` (ESM, node22, minified,
 * AWS SDK external, no source map), and splits the output's bytes by the package they came from.
 */
async function bundleAsNodejsFunction(
  project: string,
  entry: string,
): Promise<{ code: string; total: number; byPackage: Record<string, number> }> {
  const bundling = consumerBundling('nodejs22.x');
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(project, entry)],
    absWorkingDir: project,
    bundle: true,
    platform: 'node',
    format: bundling.format === 'esm' ? 'esm' : 'cjs',
    target: bundling.target as string,
    mainFields: bundling.mainFields as string[],
    minify: bundling.minify === true,
    sourcemap: bundling.sourceMap === true,
    external: bundling.externalModules as string[],
    banner: { js: bundling.banner as string },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const [output] = Object.values(result.metafile.outputs);
  const byPackage: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1] ?? 'entry';
    if (bytesInOutput > 0) byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput;
  }
  const code = result.outputFiles[0]?.text ?? '';
  return { code, total: Buffer.byteLength(code), byPackage };
}

/** The packages an ES module file and the chunks it imports load statically (dynamic import() is left out). */
function staticPackageImports(entry: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)";|^import\s*"([^"]+)";/gm)) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
      }
    }
  };
  visit(entry);
  expect(seen.size).toBeGreaterThan(1); // the entry and at least one chunk: the walk follows relative imports
  return [...packages];
}

/**
 * A new project whose node_modules holds what `npm install` of the README's line puts at its top: racesafe (packed
 * from this checkout), the SDK packages the line names, and racesafe's own dependencies; nothing else (no
 * @aws-sdk/client-sqs, no @types/aws-lambda of its own). The SDK packages link to this checkout's copies.
 */
function freshProject(): string {
  const project = mkdtempSync(join(tmpdir(), 'racesafe-fresh-'));
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const readme = readFileSync('README.md', 'utf8');
  const line = /npm install racesafe ([^`\n]+)/.exec(readme.slice(readme.indexOf('## Use it')))?.[1];
  expect(line, "the README's install line").toBeDefined();
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  const racesafe = join(project, 'node_modules', 'racesafe');
  mkdirSync(racesafe, { recursive: true });
  execFileSync('tar', ['xzf', join(project, packed), '-C', racesafe, '--strip-components=1']);
  // @types/node too: any TypeScript project on Node has it, and the SDK's own declarations need it.
  const installed = [...(line as string).trim().split(/\s+/), ...Object.keys(pkg.dependencies ?? {}), '@types/node'];
  for (const name of installed) {
    const target = join(project, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realpathSync(resolve('node_modules', name)), target);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', type: 'module', private: true }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );
  return project;
}

/** Runs a command and returns what it printed (stdout and stderr). */
function spawnSyncText(command: string, args: string[]): string {
  try {
    execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}
