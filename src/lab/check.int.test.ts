import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import naive from '../../examples/check/naive-consumer.js';
import safe from '../../examples/check/safe-consumer.js';
import { describeWhen } from '../../test/engine.js';
import { useLabTarget } from '../../test/lab.js';
import { checkDefinitionFrom, checkOnce, runCheck } from './check.js';

const seeds = Array.from({ length: 20 }, (_, i) => i + 1);

const skipReason = 'long, so runs once, in the dynamodb-local project';

describeWhen(inject('engine').name === 'dynamodb-local', skipReason)('racesafe check', () => {
  const target = useLabTarget();

  it('finds the naive consumer breaking the default invariant, and the safe one holding it', {
    timeout: 240_000,
  }, async () => {
    const naiveSummary = await runCheck(target(), checkDefinitionFrom({ default: naive }), seeds);
    expect(naiveSummary.anomalies).toBeGreaterThanOrEqual(5);
    expect(naiveSummary.example.join('\n')).toMatch(/state: (expected|unexpected)/);
    const safeSummary = await runCheck(target(), checkDefinitionFrom({ default: safe }), seeds);
    expect(safeSummary).toEqual({ runs: 20, anomalies: 0, firstFailingSeed: null, example: [] });
  });

  it('replays a failing seed with the same anomalies', async () => {
    const definition = checkDefinitionFrom({ default: naive });
    const { firstFailingSeed } = await runCheck(target(), definition, seeds.slice(0, 10));
    expect(firstFailingSeed).not.toBeNull();
    const first = await checkOnce(target(), definition, firstFailingSeed as number);
    const again = await checkOnce(target(), definition, firstFailingSeed as number);
    expect(first.length).toBeGreaterThan(0);
    expect(again).toEqual(first);
  });

  it('rejects a module without a handler factory, naming the field', () => {
    expect(() => checkDefinitionFrom({ tables: { t: { partitionKey: 'pk' } }, events: [] })).toThrow(/handler/);
    expect(() => checkDefinitionFrom({ handler: () => () => 1, events: [] })).toThrow(/tables/);
  });

  it('CLI: exit 1 with the failing seed for the naive module, 0 for the safe one, 2 for a bad module', {
    timeout: 400_000,
  }, () => {
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args], {
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
    const failing = cli(['examples/check/naive-consumer.ts', '--runs', '8']);
    expect(failing.status, failing.stderr).toBe(1);
    expect(failing.stdout).toMatch(
      /Replay it: node --import tsx src\/cli\/main.ts check examples\/check\/naive-consumer.ts --seed \d+/,
    );
    const passing = cli(['examples/check/safe-consumer.ts', '--runs', '3', '--json']);
    expect(passing.status, passing.stderr).toBe(0);
    expect(JSON.parse(passing.stdout)).toMatchObject({ runs: 3, anomalies: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'racesafe-check-'));
    writeFileSync(join(dir, 'bad.mjs'), 'export default { tables: { t: { partitionKey: "pk" } }, events: [] };\n');
    const bad = cli([join(dir, 'bad.mjs')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/handler: must be a function/);
  });
});
