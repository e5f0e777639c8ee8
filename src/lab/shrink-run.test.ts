import { describe, expect, it } from 'vitest';
import type { Scenario } from './scenario.js';
import { initialLabPlan, type LabRunPlan, plannedFaults, shrinkLabRun } from './shrink-run.js';

const story = (extra: Partial<Scenario>): Scenario => ({
  name: 'planted',
  summary: '',
  invariant: '',
  requires: [],
  run: async () => ({ anomalies: [] }),
  ...extra,
});

describe('shrinkLabRun', () => {
  it('shrinks the size knob, then turns off each fault the failure does not need', async () => {
    const scenario = story({
      size: { name: 'writers', default: 8, min: 2 },
      faults: () => ({ latency: { maxMs: 5 }, lostResponse: { probability: 0.5 } }),
    });
    // Planted: fails with 3 writers or more while responses are lost.
    const tryRun = async (plan: LabRunPlan) => ({
      plan,
      anomalies: (plan.size ?? 0) >= 3 && plannedFaults(scenario, plan)?.lostResponse ? ['lost'] : [],
      run: undefined,
    });
    const first = await tryRun(initialLabPlan(scenario, 7));
    const shrunk = await shrinkLabRun(scenario, first, tryRun);
    expect(shrunk.minimal.plan).toEqual({ seed: 7, size: 3, faultsOff: ['latency'] });
    expect(plannedFaults(scenario, shrunk.minimal.plan)).toEqual({ lostResponse: { probability: 0.5 } });
    // From 8: 4, 2 (passes), 3, 2 (passes), lostResponse off (passes), latency off (still fails: kept).
    expect(shrunk.trials).toBe(6);
    expect(await shrinkLabRun(scenario, first, tryRun)).toEqual(shrunk);
    expect((await shrinkLabRun(scenario, first, tryRun, { budget: 2 })).trials).toBe(2);
  });

  it('with neither a size nor faults there is nothing to try', async () => {
    const scenario = story({});
    const first = { plan: initialLabPlan(scenario, 1), anomalies: ['x'], run: 0 };
    const shrunk = await shrinkLabRun(scenario, first, async () => {
      throw new Error('no run expected');
    });
    expect(shrunk).toEqual({ minimal: first, trials: 0 });
  });
});
