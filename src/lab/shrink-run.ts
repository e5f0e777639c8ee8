/** @module Shrinks a lab story's failing run to a smaller one that still shows an anomaly: a smaller workload, then each fault off; the same seed shrinks the same way. */
import type { FaultOptions } from '../testing/faults.js';
import { greedyTrials, type ShrinkStep, tryEachStep } from './greedy-shrink.js';
import type { Scenario, SizeKnob } from './scenario.js';

/** The faults a story can draw from its seed, in the order the shrink turns them off. */
export const faultKinds = ['crash', 'lostResponse', 'throttling', 'transactionConflict', 'latency'] as const;
export type FaultKind = (typeof faultKinds)[number];

/** What a lab run is besides its scenario and variant: the seed, and what the shrink took away. */
export interface LabRunPlan {
  readonly seed: number;
  /** The story's workload size (see {@link SizeKnob}); undefined for a story without one. */
  readonly size: number | undefined;
  /** Fault kinds of the story's `faults(seed)` turned off. */
  readonly faultsOff: readonly FaultKind[];
}

/** A run tried by the shrink: its plan, its anomalies, and whatever else the caller keeps of it. */
export interface LabTrial<T> {
  readonly plan: LabRunPlan;
  readonly anomalies: readonly string[];
  readonly run: T;
}

export interface LabShrinkOptions {
  /** Runs to try at most. @default 10 */
  readonly budget?: number;
}

/** The run the seed draws, before any shrink. */
export function initialLabPlan(scenario: Scenario, seed: number): LabRunPlan {
  return { seed, size: scenario.size?.default, faultsOff: [] };
}

/** The story's faults for a plan: `faults(seed)` without the kinds turned off. */
export function plannedFaults(scenario: Scenario, plan: LabRunPlan): Omit<FaultOptions, 'seed'> | undefined {
  const faults = scenario.faults?.(plan.seed);
  if (faults === undefined) return undefined;
  const kept: Record<string, unknown> = { ...faults };
  for (const kind of plan.faultsOff) delete kept[kind];
  return kept as Omit<FaultOptions, 'seed'>;
}

/**
 * The steps, in order: the workload halved toward its minimum while that still fails, then one smaller at a time,
 * then each fault kind the story draws turned off (a smaller workload first: it makes every later run cheaper).
 */
export function labShrinkSteps<T>(scenario: Scenario): ShrinkStep<LabRunPlan, LabTrial<T>>[] {
  const knob: SizeKnob | undefined = scenario.size;
  const resized = (best: LabTrial<T>, size: number): LabRunPlan | undefined =>
    knob === undefined || best.plan.size === undefined || size >= best.plan.size || size < knob.min
      ? undefined
      : { ...best.plan, size };
  return [
    { plan: (best) => resized(best, Math.floor((best.plan.size ?? 0) / 2)), repeat: true },
    { plan: (best) => resized(best, (best.plan.size ?? 0) - 1), repeat: true },
    ...faultKinds.map((kind) => ({
      plan: (best: LabTrial<T>) =>
        scenario.faults?.(best.plan.seed)[kind] === undefined || best.plan.faultsOff.includes(kind)
          ? undefined
          : { ...best.plan, faultsOff: [...best.plan.faultsOff, kind] },
    })),
  ];
}

/** Shrinks a failing run; `trials` counts the runs tried (the failing one not included). */
export async function shrinkLabRun<T>(
  scenario: Scenario,
  failing: LabTrial<T>,
  tryRun: (plan: LabRunPlan) => Promise<LabTrial<T>>,
  options: LabShrinkOptions = {},
): Promise<{ readonly minimal: LabTrial<T>; readonly trials: number }> {
  const shrink = greedyTrials<LabRunPlan, LabTrial<T>>(failing, {
    run: tryRun,
    fails: (trial) => trial.anomalies.length > 0,
    budget: options.budget ?? 10,
  });
  await tryEachStep(shrink, labShrinkSteps<T>(scenario));
  return { minimal: shrink.best, trials: shrink.trials };
}
