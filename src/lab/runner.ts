/** @module Runs scenarios naive and safe over many seeds against one engine, and summarises what each variant let through. */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import type { EngineCapabilities } from '../testing/capabilities.js';
import type { KinesisEngine } from '../testing/kinesis-engine.js';
import { seededRandom } from '../testing/random.js';
import type { TraceEntry } from '../testing/scheduler.js';
import { openHarness } from './harness.js';
import { meterRequests } from './request-meter.js';
import type { RunContext, RunTable, RunVerdict, Scenario, Variant } from './scenario.js';
import { type FaultKind, initialLabPlan, type LabRunPlan, plannedFaults, shrinkLabRun } from './shrink-run.js';

/** The engine the lab runs against. */
export interface LabTarget {
  readonly name: string;
  readonly endpoint: string;
  readonly capabilities: EngineCapabilities;
  readonly streams: DynamoDBStreamsClient;
  readonly kinesis: KinesisEngine | undefined;
}

/** The result of one variant of one scenario over all its seeds. */
export interface VariantSummary {
  readonly name: string;
  readonly variant: Variant;
  readonly runs: number;
  /** Runs in which the checker found at least one anomaly. */
  readonly anomalies: number;
  readonly firstFailingSeed: number | null;
  /** Every seed whose run had an anomaly, in order. */
  readonly failingSeeds: readonly number[];
  /** Why the scenario did not run on this engine. */
  readonly skipped?: string;
  readonly requests: number;
  /** SDK retries (attempts beyond the first) plus racesafe's own retries (optimistic conflicts, transactions). */
  readonly retries: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  /** Anomaly lines of the first failing run, to show what went wrong. */
  readonly example: readonly string[];
  /** The requests of the first failing run in the order the scheduler let them through (every race of the run). */
  readonly timeline: readonly LabTimelineEntry[];
  /** The first failing run shrunk to a smaller one that still shows an anomaly; null when no run failed. */
  readonly shrunk: LabShrunkRun | null;
  /** Upstream calls per run, for stories that count them. */
  readonly upstreamCalls?: readonly number[];
  /** The story's own counts per run (`RunVerdict.measurements`), by name: tenant-leak's cold starts, for example. */
  readonly measurements?: Readonly<Record<string, readonly number[]>>;
  /** Runs whose interleaving the scheduler could not keep deterministic (its watchdog fired): 0 means replayable. */
  readonly nondeterministicRuns: number;
}

/** One request of a lab run: which race of the run, which worker, what it sent, what came back. */
export interface LabTimelineEntry extends TraceEntry {
  /** The race within the run, from 0 (a story may race several times in one run). */
  readonly race: number;
}

/** The smallest failing run the shrink found from the first failing run (the first failing run itself when nothing smaller failed). */
export interface LabShrunkRun {
  /** Runs tried; at most the budget. */
  readonly trials: number;
  readonly budget: number;
  /** Requests in the first failing run's timeline, and in the minimal run's. */
  readonly originalRequests: number;
  readonly requests: number;
  /** The workload size, before and after, for a story with a size knob. */
  readonly size?: { readonly name: string; readonly from: number; readonly to: number };
  /** Fault kinds of the story's seeded faults that the failure did not need. */
  readonly faultsOff: readonly FaultKind[];
  readonly anomalies: readonly string[];
  readonly timeline: readonly LabTimelineEntry[];
}

export interface LabProgress {
  scenario: string;
  variant: Variant;
  run: number;
  runs: number;
  anomalies: number;
}

export interface RunLabOptions {
  readonly scenarios: readonly Scenario[];
  readonly seeds: readonly number[];
  readonly variants?: readonly Variant[];
  readonly onProgress?: (progress: LabProgress) => void;
  /** Runs to try when shrinking each variant's first failing run; 0 keeps it unshrunk. @default 10 */
  readonly shrinkBudget?: number;
}

/** Which requirement of the scenario the target lacks, as a reason, or undefined when it can run. */
export function missingRequirement(scenario: Scenario, target: LabTarget): string | undefined {
  for (const requirement of scenario.requires) {
    if (requirement === 'kinesis') {
      if (!target.kinesis) return 'needs Kinesis (kinesalite)';
    } else if (!target.capabilities[requirement]) {
      return `the engine has no ${requirement === 'returnValuesOnConditionCheckFailure' ? 'ALL_OLD on condition failure' : requirement}`;
    }
  }
  return undefined;
}

/** Runs every scenario naive then safe over every seed. */
export async function runLab(target: LabTarget, options: RunLabOptions): Promise<VariantSummary[]> {
  const summaries: VariantSummary[] = [];
  const variants = options.variants ?? (['naive', 'safe'] as const);
  for (const scenario of options.scenarios) {
    const skipped = missingRequirement(scenario, target);
    for (const variant of variants) {
      if (skipped) {
        summaries.push(emptySummary(scenario.name, variant, skipped));
        continue;
      }
      summaries.push(await runVariant(target, scenario, variant, options));
    }
  }
  return summaries;
}

async function runVariant(
  target: LabTarget,
  scenario: Scenario,
  variant: Variant,
  options: RunLabOptions,
): Promise<VariantSummary> {
  let anomalousRuns = 0;
  let firstFailingSeed: number | null = null;
  let example: readonly string[] = [];
  let timeline: readonly LabTimelineEntry[] = [];
  let shrunk: LabShrunkRun | null = null;
  const failingSeeds: number[] = [];
  let requests = 0;
  let retries = 0;
  let busyMs = 0;
  let nondeterministicRuns = 0;
  const latencies: number[] = [];
  const upstreamCalls: number[] = [];
  const measurements: Record<string, number[]> = {};
  for (const [index, seed] of options.seeds.entries()) {
    const outcome = await runOnce(target, scenario, variant, seed);
    requests += outcome.requests;
    retries += outcome.retries;
    busyMs += outcome.ms;
    latencies.push(...outcome.latenciesMs);
    if (!outcome.deterministic) nondeterministicRuns += 1;
    if (outcome.verdict.upstreamCalls !== undefined) upstreamCalls.push(outcome.verdict.upstreamCalls);
    for (const [name, value] of Object.entries(outcome.verdict.measurements ?? {})) {
      measurements[name] = [...(measurements[name] ?? []), value];
    }
    if (outcome.verdict.anomalies.length > 0) {
      anomalousRuns += 1;
      failingSeeds.push(seed);
      if (firstFailingSeed === null) {
        firstFailingSeed = seed;
        example = outcome.verdict.anomalies.slice(0, 5);
        timeline = timelineOf(outcome);
        shrunk = await shrinkFirstFailure(target, scenario, variant, seed, outcome, options.shrinkBudget ?? 10);
      }
    }
    options.onProgress?.({
      scenario: scenario.name,
      variant,
      run: index + 1,
      runs: options.seeds.length,
      anomalies: anomalousRuns,
    });
  }
  return {
    name: scenario.name,
    variant,
    runs: options.seeds.length,
    anomalies: anomalousRuns,
    firstFailingSeed,
    failingSeeds,
    requests,
    retries,
    opsPerSecond: busyMs > 0 ? (requests / busyMs) * 1000 : 0,
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    example,
    timeline,
    shrunk,
    ...(upstreamCalls.length > 0 ? { upstreamCalls } : {}),
    ...(Object.keys(measurements).length > 0 ? { measurements } : {}),
    nondeterministicRuns,
  };
}

function timelineOf(outcome: RunOutcome): LabTimelineEntry[] {
  return outcome.traces.flatMap((trace, race) => trace.map((entry) => ({ race, ...entry })));
}

/** Shrinks the first failing run (its plan is the seed's own) and says what it took away. */
async function shrinkFirstFailure(
  target: LabTarget,
  scenario: Scenario,
  variant: Variant,
  seed: number,
  outcome: RunOutcome,
  budget: number,
): Promise<LabShrunkRun> {
  const plan = initialLabPlan(scenario, seed);
  const { minimal, trials } = await shrinkLabRun(
    scenario,
    { plan, anomalies: outcome.verdict.anomalies, run: outcome },
    async (tried) => {
      const run = await runOnce(target, scenario, variant, tried);
      return { plan: tried, anomalies: run.verdict.anomalies, run };
    },
    { budget },
  );
  const minimalTimeline = timelineOf(minimal.run);
  return {
    trials,
    budget,
    originalRequests: timelineOf(outcome).length,
    requests: minimalTimeline.length,
    ...(scenario.size && plan.size !== undefined && minimal.plan.size !== undefined
      ? { size: { name: scenario.size.name, from: plan.size, to: minimal.plan.size } }
      : {}),
    faultsOff: minimal.plan.faultsOff,
    anomalies: minimal.anomalies.slice(0, 5),
    timeline: minimalTimeline,
  };
}

export interface RunOutcome {
  readonly verdict: RunVerdict;
  /** The request order of each race in the run, for replay checks. */
  readonly traces: readonly (readonly TraceEntry[])[];
  readonly requests: number;
  readonly retries: number;
  readonly latenciesMs: readonly number[];
  readonly ms: number;
  readonly deterministic: boolean;
}

/**
 * One seeded run: a fresh client, scheduler and faults, fresh tables, and the checker's verdict. A plan instead of a
 * seed runs what a shrink left of it (a smaller workload, some faults off).
 */
export async function runOnce(
  target: LabTarget,
  scenario: Scenario,
  variant: Variant,
  seedOrPlan: number | LabRunPlan,
): Promise<RunOutcome> {
  const plan = typeof seedOrPlan === 'number' ? initialLabPlan(scenario, seedOrPlan) : seedOrPlan;
  const { seed } = plan;
  const faults = plannedFaults(scenario, plan);
  const harness = openHarness({ endpoint: target.endpoint, seed, ...(faults ? { faults } : {}) });
  const { client, setupClient } = harness;
  const meter = meterRequests(client);
  let libraryRetries = 0;
  const countRetries = (event: OutcomeEvent) => {
    if (event.status === 'retried') libraryRetries += 1;
  };
  const context: RunContext = {
    variant,
    seed,
    size: plan.size,
    random: seededRandom(seed * 7919 + 17),
    client,
    setupClient,
    streams: target.streams,
    capabilities: target.capabilities,
    kinesis: target.kinesis,
    async table(options = {}): Promise<RunTable> {
      const stream = options.stream === true && target.capabilities.streams;
      const created = await harness.table(`lab_${scenario.name.replaceAll('-', '_')}`, {
        partitionKey: 'pk',
        ...(stream ? { stream: 'NEW_AND_OLD_IMAGES' as const } : {}),
        ...(options.ttlAttribute && target.capabilities.ttl ? { ttlAttribute: options.ttlAttribute } : {}),
      });
      const table = defineTable({ client, name: created.name, partitionKey: 'pk', observe: countRetries });
      return { table, name: created.name, streamArn: created.streamArn };
    },
    race: (workers) => harness.race(workers),
  };
  const started = performance.now();
  try {
    const verdict = await scenario.run(context);
    return {
      verdict,
      traces: harness.traces,
      requests: meter.attempts,
      retries: meter.retries + libraryRetries,
      latenciesMs: meter.latenciesMs,
      ms: performance.now() - started,
      deterministic: harness.deterministic,
    };
  } finally {
    await harness.close();
  }
}

function emptySummary(name: string, variant: Variant, skipped: string): VariantSummary {
  return {
    name,
    variant,
    runs: 0,
    anomalies: 0,
    firstFailingSeed: null,
    failingSeeds: [],
    skipped,
    requests: 0,
    retries: 0,
    opsPerSecond: 0,
    latencyMs: { p50: 0, p99: 0 },
    example: [],
    timeline: [],
    shrunk: null,
    nondeterministicRuns: 0,
  };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Workers that threw something other than a simulated crash: the workload itself broke, which is an anomaly too. */
export function workerFailures(
  results: readonly PromiseSettledResult<unknown>[],
  isCrash: (error: unknown) => boolean,
): string[] {
  return results.flatMap((result, worker) =>
    result.status === 'rejected' && !isCrash(result.reason)
      ? [`worker ${worker} failed: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`]
      : [],
  );
}
