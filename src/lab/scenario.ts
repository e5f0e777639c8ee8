/** @module What a race story is to the lab: a workload run naive and safe, and the invariant that judges it. */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Table } from '../table.js';
import type { Capability, EngineCapabilities } from '../testing/capabilities.js';
import type { FaultOptions } from '../testing/faults.js';
import type { KinesisEngine } from '../testing/kinesis-engine.js';
import type { Random } from '../testing/random.js';
import type { ScheduledRun, Worker } from '../testing/scheduler.js';

/** Each story runs twice on identical workloads: the way it is usually written, and with racesafe. */
export type Variant = 'naive' | 'safe';

/** What a scenario needs besides DynamoDB itself. */
export type Requirement = Capability | 'kinesis';

/** A fresh table made for one run (deleted after it). */
export interface RunTable {
  readonly table: Table;
  readonly name: string;
  /** The table's stream, when the scenario asked for one. */
  readonly streamArn: string | undefined;
}

/** Everything one run of one variant gets. */
export interface RunContext {
  readonly variant: Variant;
  readonly seed: number;
  /** Seeded: the same seed draws the same workload. */
  readonly random: Random;
  /** A client gated by the run's scheduler, with the scenario's faults attached: the one the workers use. */
  readonly client: DynamoDBDocumentClient;
  /** An ungated client for setup and checking (outside the race). */
  readonly setupClient: DynamoDBDocumentClient;
  readonly streams: DynamoDBStreamsClient;
  readonly capabilities: EngineCapabilities;
  readonly kinesis: KinesisEngine | undefined;
  /** Creates a fresh table with partition key `pk` whose handle uses the gated client. */
  table(options?: { readonly stream?: boolean; readonly ttlAttribute?: string }): Promise<RunTable>;
  /** The workload size to run ({@link Scenario.size}): its default, or smaller while the lab shrinks a failing run; undefined for a story without one. */
  readonly size: number | undefined;
  /** Runs the workers concurrently under the seeded scheduler. */
  race<T>(workers: readonly Worker<T>[]): Promise<ScheduledRun<T>>;
}

/** What the checker found in one run: one line per anomaly, empty when the invariant held. */
export interface RunVerdict {
  readonly anomalies: readonly string[];
  /** Calls the workload made to a simulated upstream (cache stampede), when that is what the story counts. */
  readonly upstreamCalls?: number;
  /** Other counts the story reports (tenant-leak: cold starts, environments), by name. @default none */
  readonly measurements?: Readonly<Record<string, number>>;
}

/** A story's workload size, which the lab shrinks a failing run along (fewer writers, fewer orders). */
export interface SizeKnob {
  /** What the number counts, for the report: `writers`, `orders`. */
  readonly name: string;
  readonly default: number;
  /** The smallest size at which the story can still race. */
  readonly min: number;
}

export interface Scenario {
  /** Stable id, used by `--scenario` and in `--json`. */
  readonly name: string;
  /** One sentence for `racesafe lab --list`. */
  readonly summary: string;
  /** The invariant the checker enforces, for the report. */
  readonly invariant: string;
  readonly requires: readonly Requirement[];
  /** Faults for one run, drawn from the seed (the same for both variants). @default none */
  faults?(seed: number): FaultOptions;
  /** The workload's size knob; the invariant must hold at every size from `min` to `default`. @default none (the lab shrinks only faults) */
  readonly size?: SizeKnob;
  run(context: RunContext): Promise<RunVerdict>;
}
