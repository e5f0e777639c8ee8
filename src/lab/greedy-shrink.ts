/** @module The greedy trial loop every shrinker here shares: try a smaller plan, keep it when it still fails, stop at the budget. */

export interface GreedyTrialsOptions<P, R> {
  /** Runs one plan (deterministic from the plan, so that a seed always shrinks the same way). */
  readonly run: (plan: P) => Promise<R>;
  /** Whether a result still shows the failure. */
  readonly fails: (result: R) => boolean;
  /** Plans to run at most. */
  readonly budget: number;
  /** Called after each plan run. @default none */
  readonly onTrial?: (trial: number, failing: boolean) => void;
}

/** The state of one shrink: the smallest failing result so far and the trials spent. */
export interface GreedyTrials<P, R> {
  readonly best: R;
  readonly trials: number;
  /** True once the budget is spent: `attempt` then runs nothing. */
  readonly spent: boolean;
  /** Runs the plan unless the budget is spent; keeps its result as `best` when it still fails, and says whether it did. */
  attempt(plan: P): Promise<boolean>;
  /** Replaces `best` without a trial, for a plan known to be the same race (a count the run would not use anyway). */
  restate(result: R): void;
}

/** Starts a shrink from a failing result. */
export function greedyTrials<P, R>(failing: R, options: GreedyTrialsOptions<P, R>): GreedyTrials<P, R> {
  let best = failing;
  let trials = 0;
  return {
    get best() {
      return best;
    },
    get trials() {
      return trials;
    },
    get spent() {
      return trials >= options.budget;
    },
    async attempt(plan) {
      if (trials >= options.budget) return false;
      trials += 1;
      const result = await options.run(plan);
      const fails = options.fails(result);
      options.onTrial?.(trials, fails);
      if (fails) best = result;
      return fails;
    },
    restate(result) {
      best = result;
    },
  };
}

/**
 * One step of a shrink: from the current best, the smaller plan to try, or undefined when the step does not apply.
 * A `repeat` step is tried again while it keeps succeeding (halving a count, say).
 */
export interface ShrinkStep<P, R> {
  readonly plan: (best: R) => P | undefined;
  /** @default false */
  readonly repeat?: boolean;
}

/** Tries each step in order on the current best (the order is the shrink's whole strategy: same steps, same shrink). */
export async function tryEachStep<P, R>(trials: GreedyTrials<P, R>, steps: readonly ShrinkStep<P, R>[]): Promise<void> {
  for (const step of steps) {
    for (let plan = step.plan(trials.best); plan !== undefined && !trials.spent; plan = step.plan(trials.best)) {
      if (!(await trials.attempt(plan)) || !step.repeat) break;
    }
  }
}
