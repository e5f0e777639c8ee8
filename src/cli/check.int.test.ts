import { spawnSync } from 'node:child_process';
import { expect, inject, it } from 'vitest';
import { describeWhen } from '../../test/engine.js';

const fixtures = 'src/lab/module-check/fixtures';
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args], {
    encoding: 'utf8',
    env,
    timeout: 400_000,
  });
const table = ['--table', 'STATE_TABLE:deviceId'];
const events = ['--events', `${fixtures}/readings.json`];

describeWhen(inject('engine').name === 'dynamodb-local', 'the CLI starts its own engines, so runs once')(
  'racesafe check <handler module> (CLI)',
  () => {
    it('exits 1 on the naive handler, prints the minimal timeline, and the Replay it line runs as printed', {
      timeout: 600_000,
    }, () => {
      const failing = cli([`${fixtures}/naive-handler.ts`, ...table, ...events, '--runs', '2']);
      expect(failing.status, failing.stderr).toBe(1);
      expect(failing.stdout).toMatch(/seeds broke the invariant/);
      expect(failing.stdout).toMatch(
        /#\s+who\s+invocation\s+request\s+outcome\n\s+1\s+λ\d\s+event \d+\s+GetItem STATE_TABLE/,
      );
      const replay = /Replay it: (.+)/.exec(failing.stdout)?.[1];
      expect(replay).toMatch(/^node --import tsx src\/cli\/main.ts check .*naive-handler.ts .*--seed \d+$/);
      const again = spawnSync('sh', ['-c', replay as string], { encoding: 'utf8', env, timeout: 400_000 });
      expect(again.status, again.stderr).toBe(1);
      const timeline = (out: string) => out.slice(out.indexOf('\nSeed '), out.indexOf('Replay it'));
      expect(timeline(again.stdout)).toBe(timeline(failing.stdout));
    });

    it('exits 2 with one line, no stack trace, for each usage mistake', { timeout: 300_000 }, () => {
      const cases: [string[], RegExp][] = [
        [
          [`${fixtures}/no-handler.ts`, ...table, ...events, '--runs', '1'],
          /no-handler\.ts: has no export 'handler' \(it exports: main\)/,
        ],
        [
          [`${fixtures}/throwing-handler.ts`, ...table, ...events, '--runs', '1'],
          /the handler threw during the serial reference run, on event 0: Error: cannot parse the event/,
        ],
        [[`${fixtures}/naive-handler.ts`], /exports a Lambda handler \('handler'\), not a check definition: .*--table/],
        [[`${fixtures}/naive-handler.ts`, ...table, '--events', 'nope.json'], /--events: cannot find nope\.json/],
        [[`${fixtures}/naive-handler.ts`, ...events, '--table', 'STATE_TABLE'], /--table must be ENV:partitionKey/],
        [[`${fixtures}/naive-handler.ts`, ...table], /--events <file> is required/],
        [[`${fixtures}/missing.ts`, ...table, ...events], /cannot find the module/],
        [[`${fixtures}/naive-handler.ts`, ...table, ...events, '--runs', '-3'], /--runs must be a whole number >= 1/],
        [
          [`${fixtures}/naive-handler.ts`, ...table, ...events, '--endpoint', 'http://127.0.0.1:1'],
          /no DynamoDB answers at --endpoint http:\/\/127\.0\.0\.1:1/,
        ],
      ];
      for (const [args, message] of cases) {
        const result = cli(args);
        expect(result.status, `${args.join(' ')}\n${result.stderr}`).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(message);
        expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      }
    });
  },
);
