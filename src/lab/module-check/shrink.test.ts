import { describe, expect, it } from 'vitest';
import { initialPlan, type RacePlan, type RaceResult } from './run.js';
import { shrinkRace } from './shrink.js';

const check = {
  modulePath: '/m.ts',
  tables: [{ env: 'T', partitionKey: 'pk' }],
  events: Array.from({ length: 8 }, (_, i) => ({ i })),
};
const result = (plan: RacePlan, anomalies: string[]): RaceResult => ({
  plan,
  anomalies,
  steps: [],
  invocations: plan.events.length,
  deterministic: true,
});

describe('shrinkRace', () => {
  it('keeps only what the failure needs: the two racing events, no faults, no duplicates, two environments', async () => {
    // A planted race: it breaks exactly when events 2 and 5 run and at least two environments race.
    const tried: RacePlan[] = [];
    const tryRace = async (plan: RacePlan) => {
      tried.push(plan);
      const fails = plan.events.includes(2) && plan.events.includes(5) && plan.concurrency >= 2;
      return result(plan, fails ? ['lost update'] : []);
    };
    const first = result(initialPlan(check, 4), ['lost update']);
    const shrunk = await shrinkRace(first, tryRace);
    expect(shrunk.result.plan).toEqual({
      seed: 4,
      events: [2, 5],
      duplicates: false,
      faults: { lostResponse: 0, throttling: 0, latency: 0, crash: 0 },
      concurrency: 2,
    });
    const again: RacePlan[] = [];
    const repeat = await shrinkRace(first, async (plan) => {
      again.push(plan);
      return tryRace(plan);
    });
    expect(repeat.result.plan).toEqual(shrunk.result.plan);
    expect(again).toEqual(tried.slice(tried.length - again.length));
  });

  it('returns the first failure when nothing smaller fails, within its budget', async () => {
    const first = result(initialPlan(check, 9), ['planted']);
    const shrunk = await shrinkRace(first, async (plan) => result(plan, []), { budget: 5 });
    expect(shrunk.result).toBe(first);
    expect(shrunk.trials).toBe(5);
  });
});
