import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

  it('exposes the API as ESM and CJS through the exports map, with types listed first', async () => {
    const esm = await import('racesafe');
    const cjs = createRequire(import.meta.url)('racesafe');
    for (const name of publicApi) {
      expect(typeof esm[name as keyof typeof esm], `esm ${name}`).toBe('function');
      expect(typeof cjs[name], `cjs ${name}`).toBe('function');
    }
    const testing = await import('racesafe/testing');
    expect(typeof testing.startDynamoDB).toBe('function');
    expect(typeof createRequire(import.meta.url)('racesafe/testing').createScheduler).toBe('function');
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
