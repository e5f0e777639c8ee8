import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
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
});

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
