import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
});
