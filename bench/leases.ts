/** @module Benchmark: idempotent() vs Powertools idempotency, and cached() vs the story's fix with a fixed 100 ms sleep. */
import { Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context } from 'aws-lambda';
import { meterRequests, type RequestMeter } from '../src/lab/request-meter.js';
import { cached } from '../src/lease/cached.js';
import { idempotent } from '../src/lease/idempotent.js';
import { sleep } from '../src/retry/backoff.js';
import { defineTable, type Table } from '../src/table.js';
import { type DynamoDBEngine, localClientConfig, startDynamoDB } from '../src/testing/dynamodb-engine.js';
import { createTable, uniqueTableName } from '../src/testing/tables.js';
import { median } from './harness.js';

export interface LeasesBenchOptions {
  /** How long the idempotent function runs, in ms. @default 50 */
  readonly workMs?: number;
  /** Keys measured per idempotency path (each path's numbers are means or medians over them). @default 20 */
  readonly keys?: number;
  /** How long the loader (the costly API) takes, in ms: one stampede series per value. @default [50, 500] */
  readonly loaderMs?: readonly number[];
  /** Concurrent misses per stampede. @default [20, 100, 500] */
  readonly stampedes?: readonly number[];
  /** Interleaved rounds per stampede size and variant. @default 3 */
  readonly rounds?: number;
}

/** One idempotency path: DynamoDB requests per invocation, and the latency until the caller has its answer. */
export interface IdempotencyRow {
  readonly path: 'first call' | 'duplicate after completion' | 'concurrent duplicate';
  readonly racesafeRequests: number;
  readonly powertoolsRequests: number;
  readonly racesafeP50Ms: number;
  readonly powertoolsP50Ms: number;
  /** What the caller gets on this path. */
  readonly racesafeGets: string;
  readonly powertoolsGets: string;
}

/** One stampede size and variant. */
export interface StampedeRow {
  readonly callers: number;
  readonly loaderMs: number;
  readonly variant: 'racesafe cached()' | 'story fix (100 ms sleep)';
  /** Loader calls per stampede (median over rounds). */
  readonly loaderCalls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** DynamoDB requests per caller (mean over rounds). */
  readonly requestsPerCaller: number;
}

export interface LeasesBenchReport {
  readonly idempotency: readonly IdempotencyRow[];
  readonly stampede: readonly StampedeRow[];
}

/** A client of its own for one role, so its requests are counted apart from everyone else's. */
function meteredClient(engine: DynamoDBEngine, clients: DynamoDBClient[]) {
  // Enough sockets for every caller of the largest stampede: each caller stands for a Lambda with its own
  // connection, so no caller waits in this process's socket pool (the SDK's default is 50) behind the others.
  const requestHandler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1024 }) });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint, requestHandler });
  clients.push(dynamodb);
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { dynamodb, client, meter: meterRequests(client) };
}

/** Requests sent while `run` ran, by this meter. */
async function requestsDuring<T>(
  meter: RequestMeter,
  run: () => Promise<T>,
): Promise<{ requests: number; ms: number }> {
  const before = meter.attempts;
  const started = performance.now();
  await run().catch(() => undefined);
  return { requests: meter.attempts - before, ms: performance.now() - started };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Runs both comparisons on `engine` in one run and returns plain numbers. The idempotency paths use one client per
 * role (the first caller, the measured caller), so requests are counted per invocation with SDK middleware.
 */
export async function benchLeases(
  engine: DynamoDBEngine,
  options: LeasesBenchOptions = {},
): Promise<LeasesBenchReport> {
  const clients: DynamoDBClient[] = [];
  try {
    return {
      idempotency: await benchIdempotency(engine, clients, options),
      stampede: await benchStampede(engine, clients, options),
    };
  } finally {
    for (const client of clients) client.destroy();
  }
}

type Invoke = (id: string) => Promise<unknown>;

async function benchIdempotency(
  engine: DynamoDBEngine,
  clients: DynamoDBClient[],
  options: LeasesBenchOptions,
): Promise<IdempotencyRow[]> {
  const workMs = options.workMs ?? 50;
  const keys = options.keys ?? 20;
  const name = uniqueTableName('bench_idem');
  await createTable(engine.dynamodb, { name, partitionKey: 'pk' });
  const work = async (order: { id: string }) => {
    await sleep(workMs);
    return { chargeId: `ch_${order.id}` };
  };

  // Two callers per library: `first` starts the call a concurrent duplicate meets; `measured` is counted.
  const racesafeFor = (client: DynamoDBDocumentClient): Invoke => {
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const charge = idempotent(work, { table, key: (order) => `racesafe#${order.id}`, leaseMs: 30_000 });
    return (id) => charge({ id });
  };
  const powertoolsFor = (dynamodb: DynamoDBClient): Invoke => {
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName: name, keyAttr: 'pk', awsSdkV3Client: dynamodb });
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'id' });
    // Its in-progress lock then follows the remaining time, as it would in a Lambda (and as racesafe's lease does).
    config.registerLambdaContext({ getRemainingTimeInMillis: () => 30_000 } as Context);
    const charge = makeIdempotent(work, { persistenceStore, config });
    return (id) => charge({ id });
  };
  const racesafeFirst = meteredClient(engine, clients);
  const racesafeMeasured = meteredClient(engine, clients);
  const powertoolsFirst = meteredClient(engine, clients);
  const powertoolsMeasured = meteredClient(engine, clients);
  const variants = {
    racesafe: {
      first: racesafeFor(racesafeFirst.client),
      measured: racesafeFor(racesafeMeasured.client),
      meter: racesafeMeasured.meter,
    },
    powertools: {
      first: powertoolsFor(powertoolsFirst.dynamodb),
      measured: powertoolsFor(powertoolsMeasured.dynamodb),
      meter: powertoolsMeasured.meter,
    },
  };

  // Warm up every client's connections and the engine's JIT before anything is measured.
  for (const variant of Object.values(variants)) {
    for (let i = 0; i < 5; i++) {
      await variant.first(`warm-${i}`);
      await variant.measured(`warm-${i}`);
    }
  }
  const rows: IdempotencyRow[] = [];
  const measure = async (
    path: IdempotencyRow['path'],
    call: (variant: typeof variants.racesafe, id: string) => Promise<{ requests: number; ms: number }>,
  ) => {
    const samples = {
      racesafe: [] as { requests: number; ms: number }[],
      powertools: [] as { requests: number; ms: number }[],
    };
    for (let i = 0; i < keys; i++) {
      // Alternate which library goes first, so drift on a shared machine hits both alike.
      for (const which of i % 2 === 0 ? (['racesafe', 'powertools'] as const) : (['powertools', 'racesafe'] as const)) {
        samples[which].push(await call(variants[which], `${path.replaceAll(' ', '-')}-${i}`));
      }
    }
    return samples;
  };

  const first = await measure('first call', (variant, id) => requestsDuring(variant.meter, () => variant.measured(id)));
  const again = await measure('duplicate after completion', async (variant, id) => {
    await variant.first(id);
    return requestsDuring(variant.meter, () => variant.measured(id));
  });
  // A duplicate that arrives halfway through the first call's work.
  let powertoolsThrew = 0;
  const concurrent = await measure('concurrent duplicate', async (variant, id) => {
    const running = variant.first(id);
    await sleep(workMs / 2);
    const sample = await requestsDuring(variant.meter, () =>
      variant.measured(id).catch((error: unknown) => {
        if (variant === variants.powertools && (error as Error).name === 'IdempotencyAlreadyInProgressError') {
          powertoolsThrew += 1;
        }
        throw error;
      }),
    );
    await running;
    return sample;
  });
  for (const [path, samples] of [
    ['first call', first],
    ['duplicate after completion', again],
    ['concurrent duplicate', concurrent],
  ] as const) {
    rows.push({
      path,
      racesafeRequests: mean(samples.racesafe.map((sample) => sample.requests)),
      powertoolsRequests: mean(samples.powertools.map((sample) => sample.requests)),
      racesafeP50Ms: median(samples.racesafe.map((sample) => sample.ms)),
      powertoolsP50Ms: median(samples.powertools.map((sample) => sample.ms)),
      racesafeGets: 'the result',
      powertoolsGets:
        path === 'concurrent duplicate'
          ? `IdempotencyAlreadyInProgressError (${powertoolsThrew}/${keys} calls)`
          : 'the result',
    });
  }
  return rows;
}

/**
 * The story's fix: a Pending/Processing marker written with `attribute_not_exists`, an unconditional completion
 * write, and losers that sleep a fixed 100 ms between reads.
 */
async function storyFix<T>(table: Table, key: string, loader: () => Promise<T>): Promise<T> {
  const { client, name } = table;
  for (;;) {
    const got = await client.send(new GetCommand({ TableName: name, Key: { pk: key }, ConsistentRead: true }));
    if (got.Item?.status === 'completed') return got.Item.value as T;
    if (got.Item === undefined) {
      try {
        await client.send(
          new PutCommand({
            TableName: name,
            Item: { pk: key, status: 'processing' },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        const value = await loader();
        await client.send(new PutCommand({ TableName: name, Item: { pk: key, status: 'completed', value } }));
        return value;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
    await sleep(100);
  }
}

async function benchStampede(
  engine: DynamoDBEngine,
  clients: DynamoDBClient[],
  options: LeasesBenchOptions,
): Promise<StampedeRow[]> {
  const rounds = options.rounds ?? 3;
  const name = uniqueTableName('bench_stampede');
  await createTable(engine.dynamodb, { name, partitionKey: 'pk' });
  const { client, meter } = meteredClient(engine, clients);
  const table = defineTable({ client, name, partitionKey: 'pk' });
  const variants = {
    'racesafe cached()': (key: string, loader: () => Promise<number>) =>
      cached(table, key, loader, { leaseMs: 30_000 }),
    'story fix (100 ms sleep)': (key: string, loader: () => Promise<number>) => storyFix(table, key, loader),
  } as const;
  const loadNow = async () => 0;
  for (const [variant, fill] of Object.entries(variants)) {
    await Promise.all(Array.from({ length: 50 }, () => fill(`warm-${variant}`, loadNow)));
  }
  const rows: StampedeRow[] = [];
  for (const loaderMs of options.loaderMs ?? [50, 500])
    for (const callers of options.stampedes ?? [20, 100, 500]) {
      const samples = new Map<keyof typeof variants, { loads: number[]; latencies: number[]; requests: number[] }>();
      for (let round = 0; round < rounds; round++) {
        const order = Object.keys(variants) as (keyof typeof variants)[];
        for (const variant of round % 2 === 0 ? order : order.reverse()) {
          let loads = 0;
          const loader = async () => {
            loads += 1;
            await sleep(loaderMs);
            return 42;
          };
          const key = `${variant}-${loaderMs}-${callers}-${round}`;
          const before = meter.attempts;
          const latencies = await Promise.all(
            Array.from({ length: callers }, async () => {
              const started = performance.now();
              await variants[variant](key, loader);
              return performance.now() - started;
            }),
          );
          const sample = samples.get(variant) ?? { loads: [], latencies: [], requests: [] };
          sample.loads.push(loads);
          sample.latencies.push(...latencies);
          sample.requests.push((meter.attempts - before) / callers);
          samples.set(variant, sample);
        }
      }
      for (const [variant, sample] of samples) {
        rows.push({
          callers,
          loaderMs,
          variant,
          loaderCalls: median(sample.loads),
          p50Ms: percentile(sample.latencies, 50),
          p99Ms: percentile(sample.latencies, 99),
          requestsPerCaller: mean(sample.requests),
        });
      }
    }
  return rows;
}

/** Prints the report as two tables. */
export function printLeases(report: LeasesBenchReport): void {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log('\nIdempotency: racesafe idempotent() vs Powertools makeIdempotent (same engine, same run)');
  console.table(
    report.idempotency.map((row) => ({
      path: row.path,
      'racesafe requests': row.racesafeRequests.toFixed(2),
      'powertools requests': row.powertoolsRequests.toFixed(2),
      'racesafe p50': ms(row.racesafeP50Ms),
      'powertools p50': ms(row.powertoolsP50Ms),
      'racesafe gets': row.racesafeGets,
      'powertools gets': row.powertoolsGets,
    })),
  );
  console.log("\nStampede: cached() vs the story's fix with a fixed 100 ms sleep (same engine, interleaved rounds)");
  console.table(
    report.stampede.map((row) => ({
      callers: row.callers,
      loader: `${row.loaderMs} ms`,
      variant: row.variant,
      'loader calls': row.loaderCalls,
      p50: ms(row.p50Ms),
      p99: ms(row.p99Ms),
      'requests/caller': row.requestsPerCaller.toFixed(2),
    })),
  );
}

// `npx tsx bench/leases.ts [--json]` runs this benchmark alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const engine = await startDynamoDB({ engine: 'auto' });
  try {
    console.log(`engine: ${engine.engine} at ${engine.endpoint}`);
    const report = await benchLeases(engine);
    printLeases(report);
    if (process.argv.includes('--json'))
      console.log(JSON.stringify({ engine: engine.engine, leases: report }, null, 2));
  } finally {
    await engine.stop();
  }
}
