import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWhen } from '../../../test/engine.js';
import { type GatingProxy, startGatingProxy } from '../../testing/gating-proxy.js';
import { checkModule } from './check-module.js';
import { initialPlan, type ModuleCheck, race, referenceRun } from './run.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const events = JSON.parse(readFileSync(join(fixtures, 'readings.json'), 'utf8')) as unknown[];
const moduleCheck = (file: string): ModuleCheck => ({
  modulePath: join(fixtures, file),
  tables: [{ env: 'STATE_TABLE', partitionKey: 'deviceId' }],
  events,
});
const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describeWhen(inject('engine').name === 'dynamodb-local', 'long (a process per Lambda environment), so runs once')(
  'racesafe check on an unmodified module',
  () => {
    const endpoint = inject('engine').endpoint;
    let proxy: GatingProxy;
    beforeAll(async () => {
      proxy = await startGatingProxy({ target: endpoint, keyAttributes: ['deviceId'] });
    });
    afterAll(() => proxy.stop());
    const target = () => ({ endpoint, proxy });

    it('finds the naive get-then-put with a module-scope client breaking the state on most of 10 seeds', {
      timeout: 600_000,
    }, async () => {
      const summary = await checkModule(target(), moduleCheck('naive-handler.ts'), seeds(10), { shrink: false });
      expect(summary.failingSeeds.length).toBeGreaterThan(5);
      expect(summary.nondeterministicSeeds).toEqual([]);
      expect(summary.firstFailure?.anomalies.join('\n')).toMatch(/STATE_TABLE: (expected|unexpected)/);
    });

    it('replays a failing seed exactly: the same requests in the same order, the same anomalies', {
      timeout: 300_000,
    }, async () => {
      const check = moduleCheck('naive-handler.ts');
      const reference = await referenceRun(target(), check, initialPlan(check, 1).events);
      const view = async (seed: number) => {
        const run = await race(target(), check, initialPlan(check, seed), reference);
        return { anomalies: run.anomalies, steps: run.steps };
      };
      for (const seed of [1, 3]) {
        const first = await view(seed);
        expect(first.steps.length).toBeGreaterThan(0);
        expect(await view(seed)).toEqual(first);
      }
    });

    it('passes the same handler written with putIfNewer', { timeout: 600_000 }, async () => {
      const summary = await checkModule(target(), moduleCheck('safe-handler.ts'), seeds(6));
      expect(summary.failingSeeds).toEqual([]);
      expect(summary.firstFailure).toBeUndefined();
    });

    it('gives every run fresh module instances: module-scope state does not leak between runs', {
      timeout: 300_000,
    }, async () => {
      // The handler caches the versions it wrote and records how often its module was loaded in this process.
      // A shared instance would skip the second run's events (the cache) or store loads > 1.
      const summary = await checkModule(target(), moduleCheck('stateful-handler.ts'), seeds(3));
      expect(summary.failingSeeds).toEqual([]);
    });

    it('shrinks a planted race to the four requests it needs, the same way for the same seed', {
      timeout: 600_000,
    }, async () => {
      const check = moduleCheck('naive-handler.ts');
      const { firstFailure } = await checkModule(target(), check, [1], { shrinkBudget: 30 });
      expect(firstFailure).toBeDefined();
      const minimal = firstFailure?.minimal;
      // Two invocations of one key, each a GetItem and a PutItem: the lower version's put lands last.
      expect(minimal?.steps.length).toBeLessThanOrEqual(4);
      expect(minimal?.plan.events.length).toBe(2);
      expect(minimal?.steps.map((step) => step.operation).sort()).toEqual(['GetItem', 'GetItem', 'PutItem', 'PutItem']);
      const again = await checkModule(target(), check, [1], { shrinkBudget: 30 });
      expect(again.firstFailure?.minimal.plan).toEqual(minimal?.plan);
      expect(again.firstFailure?.minimal.steps).toEqual(minimal?.steps);
    });
  },
);
