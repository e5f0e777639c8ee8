/** @module Benchmark: Kinesis -> DynamoDB consumers on one workload with duplicates and redeliveries, measured in one run. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamEvent, KinesisStreamHandler, KinesisStreamRecord } from 'aws-lambda';
import { parseStateChange, safeConsumer } from '../src/lab/pipeline/consumers.js';
import { readState } from '../src/lab/pipeline/run.js';
import { judgePipeline } from '../src/lab/pipeline/verdict.js';
import { highestVersions, producerInvocations, type StateChange } from '../src/lab/pipeline/workload.js';
import { meterRequests } from '../src/lab/request-meter.js';
import { isConditionalCheckFailed, sleep } from '../src/retry/backoff.js';
import { readCommitLog } from '../src/testing/commit-log.js';
import { type DynamoDBEngine, localClientConfig, startDynamoDB } from '../src/testing/dynamodb-engine.js';
import { runKinesisEventSource } from '../src/testing/event-source/kinesis-source.js';
import { createFaults } from '../src/testing/faults.js';
import { type KinesisEngine, startKinesis, waitForActiveStream } from '../src/testing/kinesis-engine.js';
import { seededRandom } from '../src/testing/random.js';
import { createTable, uniqueTableName } from '../src/testing/tables.js';
import { closedLoop } from './harness.js';

export interface PipelineBenchOptions {
  /** Changes produced (producer retries add duplicates on top). @default 20000 */
  readonly events?: number;
  /** @default 500 */
  readonly keys?: number;
  /** @default 4 */
  readonly shards?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Concurrent batches per shard, for every variant. @default 1 (Lambda's default) */
  readonly parallelizationFactor?: number;
  /**
   * Latencies the local engines lack, added to every variant alike: see {@link AwsLatencyModel}. @default none: the run
   * is bound by this machine's CPU, where every variant pays the same client cost per DynamoDB request
   */
  readonly latency?: AwsLatencyModel;
  /** Called as each variant starts and ends. @default none */
  readonly onProgress?: (line: string) => void;
}

/**
 * What a consumer on AWS waits for and a local run does not: a network round trip per DynamoDB request, and Lambda's
 * own time to hand a batch to the function. A model, not a measurement: the defaults are round numbers of the kind AWS
 * quotes ("single-digit millisecond" DynamoDB requests) and that a warm synchronous invocation costs.
 */
export interface AwsLatencyModel {
  /** Added before each DynamoDB request is sent, drawn uniformly. @default { minMs: 3, maxMs: 8 } */
  readonly dynamodb?: { readonly minMs: number; readonly maxMs: number };
  /** Added before each invocation's handler runs. @default 10 */
  readonly invocationMs?: number;
}

/** One consumer's measurement. */
export interface PipelineBenchRow {
  readonly variant: string;
  readonly batchSize: number;
  /** Published records handled per second, from the first poll until the event source drained. */
  readonly eventsPerSecond: number;
  /** DynamoDB attempts sent by the consumer (SDK retries included) per published record. */
  readonly requestsPerEvent: number;
  /**
   * The same per record delivered to the handler: Lambda's injected duplicate deliveries, concurrent copies and retries
   * deliver some records twice, and each delivery costs its request unless the batch is collapsed.
   */
  readonly requestsPerDelivery: number;
  readonly invocations: number;
  /** Commits of a version lower than one committed before, on the state table's stream. Must be 0. */
  readonly staleWrites: number;
  /** Commits of an already committed version (a duplicate reaching downstream readers). */
  readonly duplicateStreamRecords: number;
  /** Keys not at their highest produced version. */
  readonly keysWrong: number;
  readonly seconds: number;
  readonly redeliveries: number;
}

export interface PipelineBenchResult {
  readonly parallelizationFactor: number;
  /** The latency model applied, or undefined for a run bound by this machine's CPU. */
  readonly latency: Required<AwsLatencyModel> | undefined;
  readonly events: number;
  readonly records: number;
  readonly keys: number;
  readonly shards: number;
  readonly rows: readonly PipelineBenchRow[];
}

/** Faults at Lambda's level, identical for every variant (same seed): what production delivers, on top of producer retries. */
const faults = { duplicateDelivery: 0.05, lostResponse: 0.02, concurrentInvocation: 0.05 } as const;

type Variant = {
  readonly name: string;
  readonly batchSize: number;
  /** Builds the consumer on the variant's own metered client. */
  readonly consumer: (client: DynamoDBDocumentClient, tableName: string, setup: Setup) => Promise<KinesisStreamHandler>;
};

interface Setup {
  readonly engine: DynamoDBEngine;
  /** The low-level client under the variant's DocumentClient (they share one middleware stack, so one meter). */
  readonly dynamodb: DynamoDBClient;
}

/** The story's fix: one conditional PutItem per record (version must grow), one record per invocation. */
async function storyFix(client: DynamoDBDocumentClient, tableName: string): Promise<KinesisStreamHandler> {
  const write = conditionalPut(client, tableName);
  return async (event) => {
    for (const record of event.Records) await write(decode(record));
  };
}

/**
 * Powertools batch processor (partial batch responses) + Powertools idempotency keyed on the record's payload, so a
 * duplicate is recognised by its idempotency record; the write itself stays the story's conditional put, since
 * idempotency alone does not order versions.
 */
async function powertools(
  client: DynamoDBDocumentClient,
  tableName: string,
  setup: Setup,
): Promise<KinesisStreamHandler> {
  const idempotencyTable = uniqueTableName('bench_idempotency');
  await createTable(setup.engine.dynamodb, { name: idempotencyTable, partitionKey: 'id' });
  const write = conditionalPut(client, tableName);
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'kinesis.data' });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: idempotencyTable,
    awsSdkV3Client: setup.dynamodb,
  });
  const recordHandler = makeIdempotent(async (record: KinesisStreamRecord) => write(decode(record)), {
    persistenceStore,
    config,
  });
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  return async (event: KinesisStreamEvent, context: Context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { context });
  };
}

function conditionalPut(client: DynamoDBDocumentClient, tableName: string) {
  return async (change: StateChange) => {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...change, updatedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(#key) OR #version < :version',
          ExpressionAttributeNames: { '#key': 'key', '#version': 'version' },
          ExpressionAttributeValues: { ':version': change.version },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error; // stale or duplicate: skipped
    }
  };
}

function decode(record: KinesisStreamRecord): StateChange {
  return parseStateChange(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
}

const silent = () => undefined;

/** The lab's racesafe consumer (the same code as examples/pipeline/consumer.ts, without its Powertools logger). */
function racesafeConsumer(client: DynamoDBDocumentClient, tableName: string, collapse: boolean): KinesisStreamHandler {
  const consume = safeConsumer({ client, tableName, collapse, observe: silent });
  return async (event) => (await consume(event)) ?? undefined;
}

const variants: readonly Variant[] = [
  { name: '(a) story fix, batch size 1', batchSize: 1, consumer: storyFix },
  { name: '(b) Powertools batch + idempotency', batchSize: 100, consumer: powertools },
  {
    name: '(c) kinesisHandler + putIfNewer',
    batchSize: 100,
    consumer: async (client, tableName) => racesafeConsumer(client, tableName, false),
  },
  {
    name: '(c) kinesisHandler + putIfNewer, collapse',
    batchSize: 100,
    consumer: async (client, tableName) => racesafeConsumer(client, tableName, true),
  },
];

/**
 * Starts a fresh DynamoDB Local and kinesalite per variant (Java required), publishes one workload (each key's versions
 * in order, some producer invocations published twice, later) to a fresh stream, then times each consumer from its event source's start until it drained, with the same
 * seeded duplicate deliveries, concurrent invocations and lost responses, `ParallelizationFactor` 4.
 */
export async function benchPipeline(
  engine: DynamoDBEngine,
  options: PipelineBenchOptions = {},
): Promise<PipelineBenchResult> {
  // `npm run bench`'s engine says which engine to measure on; each variant then gets a fresh one of that kind.
  if (engine.engine !== 'dynamodb-local') throw new Error('the streams benchmark needs DynamoDB Local (table streams)');
  const events = options.events ?? 20_000;
  const keys = options.keys ?? 500;
  const shards = options.shards ?? 4;
  const seed = options.seed ?? 1;
  const parallelizationFactor = options.parallelizationFactor ?? 1;
  const latency = options.latency && {
    dynamodb: options.latency.dynamodb ?? { minMs: 3, maxMs: 8 },
    invocationMs: options.latency.invocationMs ?? 10,
  };
  const progress = options.onProgress ?? (() => undefined);
  const invocations = producerInvocations(seededRandom(seed), { events, keys, chunk: 500, retryRate: 0.1 });
  const produced = highestVersions(invocations);
  const records = invocations.flatMap((invocation) => invocation.changes);
  const rows: PipelineBenchRow[] = [];
  for (const variant of variants) {
    // Fresh engines per variant: DynamoDB Local slows down as earlier variants' tables and streams pile up, which
    // would penalise whichever variant runs last.
    const fresh = await startDynamoDB({ engine: 'dynamodb-local' });
    const kinesis = await startKinesis();
    try {
      await warmUp(fresh);
      rows.push(
        await measure(variant, fresh, kinesis, {
          records,
          produced,
          shards,
          seed,
          parallelizationFactor,
          latency,
          progress,
        }),
      );
    } finally {
      await kinesis.stop();
      await fresh.stop();
    }
  }
  return { parallelizationFactor, latency, events, records: records.length, keys, shards, rows };
}

async function measure(
  variant: Variant,
  engine: DynamoDBEngine,
  kinesis: KinesisEngine,
  workload: {
    readonly records: readonly StateChange[];
    readonly produced: ReadonlyMap<string, number>;
    readonly shards: number;
    readonly seed: number;
    readonly parallelizationFactor: number;
    readonly latency: Required<AwsLatencyModel> | undefined;
    readonly progress: (line: string) => void;
  },
): Promise<PipelineBenchRow> {
  const { records, produced, shards, seed, parallelizationFactor, latency, progress } = workload;
  const tableName = uniqueTableName('bench_state');
  const { streamArn } = await createTable(engine.dynamodb, {
    name: tableName,
    partitionKey: 'key',
    stream: 'NEW_AND_OLD_IMAGES',
  });
  const streamName = uniqueTableName('bench_events');
  await publish(kinesis, streamName, shards, records);
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  const client = DynamoDBDocumentClient.from(dynamodb);
  const consumer = await variant.consumer(client, tableName, { engine, dynamodb });
  const meter = meterRequests(client);
  if (latency) {
    createFaults({ seed, latency: { ...latency.dynamodb, at: 'request' } }).attach(dynamodb);
  }
  const handler: KinesisStreamHandler = latency
    ? async (event, context, callback) => {
        await sleep(latency.invocationMs);
        return consumer(event, context, callback);
      }
    : consumer;
  progress(`${variant.name}: ${records.length} records...`);
  const started = performance.now();
  const runner = await runKinesisEventSource({
    client: kinesis.client,
    streamName,
    handler,
    batchSize: variant.batchSize,
    parallelizationFactor,
    maxRetries: 100,
    faults: { seed, ...faults },
  });
  try {
    await runner.drain();
  } finally {
    await runner.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  dynamodb.destroy();
  const log = await readCommitLog(engine.streams, streamArn as string);
  const verdict = judgePipeline(produced, await readState(engine.dynamodb, tableName), log);
  const row: PipelineBenchRow = {
    variant: variant.name,
    batchSize: variant.batchSize,
    eventsPerSecond: records.length / seconds,
    requestsPerEvent: meter.attempts / records.length,
    requestsPerDelivery: meter.attempts / runner.stats().recordsDelivered,
    invocations: runner.stats().invocations,
    staleWrites: verdict.regressions,
    duplicateStreamRecords: verdict.duplicateStreamRecords,
    keysWrong: verdict.keysWrong,
    seconds,
    redeliveries: runner.stats().redeliveries,
  };
  progress(
    `${variant.name}: ${row.eventsPerSecond.toFixed(0)} events/s, ${row.requestsPerEvent.toFixed(2)} requests/event`,
  );
  return row;
}

/**
 * Sends conditional puts until the fresh engine's JVM has compiled that path: DynamoDB Local serves its first ~20,000
 * requests several times slower than later ones, which would otherwise dominate a variant's time. The warm-up table
 * has no stream: measured here, writes to a stream-enabled table slow to about a third once another table's stream
 * holds thousands of records.
 */
async function warmUp(engine: DynamoDBEngine): Promise<void> {
  const name = uniqueTableName('bench_warm_up');
  await createTable(engine.dynamodb, { name, partitionKey: 'key' });
  const write = conditionalPut(engine.client, name);
  // Every seventh write repeats version 1, so the failed-condition path is compiled too.
  let version = 1;
  const put = (i: number) => write({ key: `k${i % 500}`, version: i % 7 === 0 ? 1 : ++version, temperature: 0 });
  await closedLoop(warmUpRequests, 16, put);
}

const warmUpRequests = 20_000;

async function publish(kinesis: KinesisEngine, streamName: string, shards: number, records: readonly StateChange[]) {
  await kinesis.client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  await waitForActiveStream(kinesis.client, streamName);
  for (let start = 0; start < records.length; start += 500) {
    await kinesis.client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: records
          .slice(start, start + 500)
          .map((change) => ({ PartitionKey: change.key, Data: Buffer.from(JSON.stringify(change)) })),
      }),
    );
  }
}

/** Prints the rows and the ratios of (c) against (a) and (b). */
export function printPipelineBench(result: PipelineBenchResult): void {
  const latency = result.latency
    ? `modelled AWS latency: ${result.latency.dynamodb.minMs}-${result.latency.dynamodb.maxMs} ms per DynamoDB request, ${result.latency.invocationMs} ms per invocation`
    : "no added latency: bound by this machine's CPU";
  console.log(
    `\nStreams, ${latency}\n${result.events} events (${result.records} records with producer retries), ${result.keys} keys, ${result.shards} shards, ParallelizationFactor ${result.parallelizationFactor}, duplicate deliveries / concurrent invocations / lost responses injected`,
  );
  console.table(
    result.rows.map((row) => ({
      variant: row.variant,
      'events/s': row.eventsPerSecond.toFixed(0),
      'DynamoDB requests/event': row.requestsPerEvent.toFixed(2),
      'requests/delivery': row.requestsPerDelivery.toFixed(2),
      invocations: row.invocations,
      'stale writes': row.staleWrites,
      'duplicate stream records': row.duplicateStreamRecords,
      'keys wrong': row.keysWrong,
      redeliveries: row.redeliveries,
      seconds: row.seconds.toFixed(1),
    })),
  );
  const [a, b, ...c] = result.rows;
  if (a === undefined || b === undefined) return;
  for (const row of c) {
    console.log(
      `${row.variant}: ${(row.eventsPerSecond / a.eventsPerSecond).toFixed(1)}x (a) [target >= 5], ${(row.eventsPerSecond / b.eventsPerSecond).toFixed(1)}x (b) [target >= 2], ${row.requestsPerEvent.toFixed(2)} requests/event, ${row.requestsPerDelivery.toFixed(2)} per delivered record [target <= 1]`,
    );
  }
}
