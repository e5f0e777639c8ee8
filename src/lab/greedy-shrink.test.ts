import { describe, expect, it } from 'vitest';
import { greedyTrials, tryEachStep } from './greedy-shrink.js';

/** A planted failure: it breaks while the count is at least 3 and the flag is on. */
interface Plan {
  readonly count: number;
  readonly flag: boolean;
  readonly extra: boolean;
}
const fails = (plan: Plan) => plan.count >= 3 && plan.flag;
const steps = [
  { plan: (best: Plan) => (best.count > 1 ? { ...best, count: Math.floor(best.count / 2) } : undefined), repeat: true },
  { plan: (best: Plan) => (best.count > 1 ? { ...best, count: best.count - 1 } : undefined), repeat: true },
  { plan: (best: Plan) => (best.flag ? { ...best, flag: false } : undefined) },
  { plan: (best: Plan) => (best.extra ? { ...best, extra: false } : undefined) },
];

async function shrink(budget: number) {
  const tried: Plan[] = [];
  const trials = greedyTrials<Plan, Plan>(
    { count: 16, flag: true, extra: true },
    {
      run: async (plan) => {
        tried.push(plan);
        return plan;
      },
      fails,
      budget,
    },
  );
  await tryEachStep(trials, steps);
  return { best: trials.best, trials: trials.trials, tried };
}

describe('greedyTrials + tryEachStep', () => {
  it('keeps each smaller plan that still fails, in the steps order', async () => {
    const { best, trials, tried } = await shrink(20);
    expect(best).toEqual({ count: 3, flag: true, extra: false });
    // 16 → 8 → 4 → 2 (passes: stop halving), 4 → 3 → 2 (passes), flag off (passes), extra off (fails: kept).
    expect(tried.map((plan) => `${plan.count}${plan.flag ? 'F' : ''}${plan.extra ? 'E' : ''}`)).toEqual([
      '8FE',
      '4FE',
      '2FE',
      '3FE',
      '2FE',
      '3E',
      '3F',
    ]);
    expect(trials).toBe(7);
  });

  it('is deterministic and never runs more than its budget', async () => {
    expect(await shrink(20)).toEqual(await shrink(20));
    const capped = await shrink(3);
    expect(capped.tried).toHaveLength(3);
    expect(capped.trials).toBe(3);
    expect(capped.best).toEqual({ count: 4, flag: true, extra: true });
    expect((await shrink(0)).tried).toEqual([]);
  });

  it('attempt runs nothing once the budget is spent', async () => {
    let runs = 0;
    const trials = greedyTrials<number, number>(10, {
      run: async (plan) => {
        runs += 1;
        return plan;
      },
      fails: () => true,
      budget: 3,
    });
    const kept = [];
    for (const plan of [9, 8, 7, 6, 5]) kept.push(await trials.attempt(plan));
    expect(kept).toEqual([true, true, true, false, false]);
    expect({ runs, trials: trials.trials, best: trials.best, spent: trials.spent }).toEqual({
      runs: 3,
      trials: 3,
      best: 7,
      spent: true,
    });
  });
});
