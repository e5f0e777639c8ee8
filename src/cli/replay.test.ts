import { describe, expect, it } from 'vitest';
import { invocationPrefix, replayCommand, shellQuote } from './replay.js';

describe('replayCommand', () => {
  it('keeps the user arguments, drops the seed choice and the output, adds --seed', () => {
    const args = ['h.ts', '--table', 'T:pk', '--runs', '10', '--json', '--events=e.json', '--seed=3'];
    expect(replayCommand('racesafe', 'check', args, 7)).toBe(
      'racesafe check h.ts --table T:pk --events=e.json --seed 7',
    );
  });

  it('quotes what a shell would split', () => {
    expect(replayCommand('racesafe', 'check', ["my handler's.ts"], 1)).toBe(
      "racesafe check 'my handler'\\''s.ts' --seed 1",
    );
    expect(shellQuote('a b')).toBe("'a b'");
  });
});

describe('invocationPrefix', () => {
  it('is racesafe for the installed bin, npx racesafe under npx, node and its flags otherwise', () => {
    expect(invocationPrefix(['node', '/x/node_modules/.bin/racesafe'], [], {}, '/x')).toBe('racesafe');
    expect(invocationPrefix(['node', '/x/.bin/racesafe'], [], { npm_command: 'exec' }, '/x')).toBe('npx racesafe');
    expect(invocationPrefix(['node', '/repo/src/cli/main.ts'], ['--import', 'tsx'], {}, '/repo')).toBe(
      'node --import tsx src/cli/main.ts',
    );
  });
});
