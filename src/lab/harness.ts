/** @module One lab harness: the gated client (seeded faults + scheduler), the plain setup client, fresh tables, and their cleanup, for every kind of lab run. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults, type FaultOptions, type Faults } from '../testing/faults.js';
import { createScheduler, type ScheduledRun, type TraceEntry, type Worker } from '../testing/scheduler.js';
import {
  type CreatedTable,
  type CreateTableOptions,
  createTable,
  deleteTable,
  uniqueTableName,
} from '../testing/tables.js';

export interface HarnessOptions {
  readonly endpoint: string;
  readonly seed: number;
  /** Faults attached to the gated client. @default none */
  readonly faults?: Omit<FaultOptions, 'seed'>;
  /** Gate the client's requests through a seeded scheduler (`race`). @default true */
  readonly gate?: boolean;
  /** See `SchedulerOptions.watchdogMs`. @default 5000 */
  readonly watchdogMs?: number;
}

/** What a lab run works with; `close()` deletes its tables and destroys its clients. */
export interface Harness {
  /** The client the code under test uses: faults attached, requests gated during `race`. */
  readonly client: DynamoDBDocumentClient;
  /** An ungated client on its own stack, for setup and checking (outside the race). */
  readonly setupClient: DynamoDBDocumentClient;
  /** The low-level client under `setupClient`. */
  readonly plain: DynamoDBClient;
  readonly faults: Faults;
  /** Creates a fresh table (a unique name from `prefix`), deleted by `close()`. */
  table(prefix: string, options: Omit<CreateTableOptions, 'name'>): Promise<CreatedTable>;
  /** Runs the workers under the seeded scheduler; records the trace. */
  race<T>(workers: readonly Worker<T>[]): Promise<ScheduledRun<T>>;
  /** The trace of every race so far. */
  readonly traces: readonly (readonly TraceEntry[])[];
  /** False once a race needed the watchdog (it may not replay exactly). */
  readonly deterministic: boolean;
  close(): Promise<void>;
}

/** Opens a harness on an engine. */
export function openHarness(options: HarnessOptions): Harness {
  const config = { ...localClientConfig, endpoint: options.endpoint };
  const gated = new DynamoDBClient(config);
  const plain = new DynamoDBClient(config);
  const marshallOptions = { removeUndefinedValues: true };
  const client = DynamoDBDocumentClient.from(gated, { marshallOptions });
  const setupClient = DynamoDBDocumentClient.from(plain, { marshallOptions });
  const faults = createFaults({ seed: options.seed, ...options.faults });
  faults.attach(client);
  const scheduler = createScheduler({ seed: options.seed, watchdogMs: options.watchdogMs ?? 5000 });
  if (options.gate ?? true) scheduler.attach(client);
  const tables: string[] = [];
  const traces: (readonly TraceEntry[])[] = [];
  let deterministic = true;
  return {
    client,
    setupClient,
    plain,
    faults,
    async table(prefix, tableOptions) {
      const name = uniqueTableName(prefix);
      const created = await createTable(plain, { ...tableOptions, name });
      tables.push(name);
      return created;
    },
    async race(workers) {
      const run = await scheduler.run(workers);
      traces.push(run.trace);
      if (!run.deterministic) deterministic = false;
      return run;
    },
    traces,
    get deterministic() {
      return deterministic;
    },
    async close() {
      await Promise.all(tables.map((name) => deleteTable(plain, name).catch(() => undefined)));
      gated.destroy();
      plain.destroy();
    },
  };
}
