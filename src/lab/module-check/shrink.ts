/** @module Shrinks a failing race to fewer events, fewer faults and fewer environments that still break the invariant; the same seed shrinks the same way. */
import { greedyTrials } from '../greedy-shrink.js';
import type { RacePlan, RaceResult } from './run.js';

export interface ShrinkOptions {
  /** Races to try at most. @default 40 */
  readonly budget?: number;
  /** Called after each race tried. @default none */
  readonly onTrial?: (trial: number, failing: boolean) => void;
}

export interface Shrunk {
  /** The smallest failing race found (the first failure when nothing smaller fails). */
  readonly result: RaceResult;
  readonly trials: number;
}

/**
 * Greedy, in a fixed order, so that a seed always shrinks the same way: chunks of events removed (halves first), each
 * fault off, duplicates off, single events removed (last first), then fewer environments. A step is kept when the smaller race still breaks the invariant.
 * Every race is deterministic from its plan, so the minimal plan replays.
 */
export async function shrinkRace(
  failing: RaceResult,
  tryRace: (plan: RacePlan) => Promise<RaceResult>,
  options: ShrinkOptions = {},
): Promise<Shrunk> {
  const shrink = greedyTrials<RacePlan, RaceResult>(failing, {
    run: tryRace,
    fails: (result) => result.anomalies.length > 0,
    budget: options.budget ?? 40,
    ...(options.onTrial ? { onTrial: options.onTrial } : {}),
  });
  const attempt = (plan: RacePlan) => shrink.attempt(plan);
  const plan = () => shrink.best.plan;
  const removeEvents = async (chunked: boolean) => {
    for (let size = chunked ? Math.floor(plan().events.length / 2) : 1; size >= 1; size = Math.floor(size / 2)) {
      for (let removed = true; removed && plan().events.length > size && !shrink.spent; ) {
        removed = false;
        const events = plan().events;
        for (let end = events.length; end > 0 && plan().events.length > size; end -= size) {
          const cut = new Set(events.slice(Math.max(0, end - size), end));
          if (![...cut].every((event) => plan().events.includes(event))) continue;
          if (await attempt({ ...plan(), events: plan().events.filter((event) => !cut.has(event)) })) removed = true;
        }
      }
      if (!chunked) break;
    }
  };
  // Events first, in halves, then quarters, … (fewer events make every later race cheaper), then faults and
  // duplicates, then single events again: a removal can make an event that was needed before unnecessary.
  await removeEvents(true);
  for (const fault of ['crash', 'lostResponse', 'throttling', 'latency'] as const) {
    if (plan().faults[fault] > 0) await attempt({ ...plan(), faults: { ...plan().faults, [fault]: 0 } });
  }
  if (plan().duplicates) await attempt({ ...plan(), duplicates: false });
  await removeEvents(false);
  const used = () => Math.min(plan().concurrency, plan().events.length * (plan().duplicates ? 2 : 1));
  // A race starts min(concurrency, deliveries) environments: say so in the plan (the same race).
  if (used() < plan().concurrency) shrink.restate({ ...shrink.best, plan: { ...plan(), concurrency: used() } });
  while (used() > 1 && (await attempt({ ...plan(), concurrency: used() - 1 }))) {
    // Each success lowers the count; the first failure stops.
  }
  return { result: shrink.best, trials: shrink.trials };
}
