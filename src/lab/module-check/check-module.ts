/** @module Checks an unmodified module over seeds and shrinks the first failing seed; returns data, prints nothing. */
import type { TableSnapshot } from '../../testing/check-definition.js';
import {
  type CheckTarget,
  initialPlan,
  type ModuleCheck,
  type RacePlan,
  type RaceResult,
  race,
  referenceRun,
} from './run.js';
import { type Shrunk, shrinkRace } from './shrink.js';

export interface ModuleCheckSummary {
  readonly runs: number;
  /** Seeds whose race broke the invariant. */
  readonly failingSeeds: readonly number[];
  /** Seeds whose interleaving the watchdog had to release (not replayable exactly). */
  readonly nondeterministicSeeds: readonly number[];
  /** The first failing seed, its anomalies, and the minimal race it shrank to. */
  readonly firstFailure?: {
    readonly seed: number;
    readonly anomalies: readonly string[];
    readonly minimal: RaceResult;
    readonly shrinkTrials: number;
  };
}

export interface ModuleCheckHooks {
  readonly onSeed?: (seed: number, result: RaceResult) => void;
  readonly onShrinkTrial?: (trial: number, failing: boolean) => void;
  /** @default true */
  readonly shrink?: boolean;
  /** @default 40 */
  readonly shrinkBudget?: number;
}

/**
 * For each seed: the reference (every event once, in order, fault-free) and a race, each on fresh tables in fresh
 * environments. The first failing seed is shrunk. Throws `ReferenceRunError` / `ModuleLoadError` for a broken module.
 */
export async function checkModule(
  target: CheckTarget,
  check: ModuleCheck,
  seeds: readonly number[],
  hooks: ModuleCheckHooks = {},
): Promise<ModuleCheckSummary> {
  const references = new Map<string, TableSnapshot>();
  const referenceFor = async (events: readonly number[]) => {
    const key = events.join(',');
    let snapshot = references.get(key);
    if (snapshot === undefined) {
      snapshot = await referenceRun(target, check, events);
      references.set(key, snapshot);
    }
    return snapshot;
  };
  const tryRace = async (plan: RacePlan) => race(target, check, plan, await referenceFor(plan.events));
  const failingSeeds: number[] = [];
  const nondeterministicSeeds: number[] = [];
  let first: { seed: number; result: RaceResult } | undefined;
  for (const seed of seeds) {
    const result = await tryRace(initialPlan(check, seed));
    hooks.onSeed?.(seed, result);
    if (!result.deterministic) nondeterministicSeeds.push(seed);
    if (result.anomalies.length > 0) {
      failingSeeds.push(seed);
      first ??= { seed, result };
    }
  }
  if (first === undefined) return { runs: seeds.length, failingSeeds, nondeterministicSeeds };
  const shrunk: Shrunk =
    hooks.shrink === false
      ? { result: first.result, trials: 0 }
      : await shrinkRace(first.result, tryRace, {
          budget: hooks.shrinkBudget ?? 40,
          ...(hooks.onShrinkTrial ? { onTrial: hooks.onShrinkTrial } : {}),
        });
  return {
    runs: seeds.length,
    failingSeeds,
    nondeterministicSeeds,
    firstFailure: {
      seed: first.seed,
      anomalies: first.result.anomalies,
      minimal: shrunk.result,
      shrinkTrials: shrunk.trials,
    },
  };
}
