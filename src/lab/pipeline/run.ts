/** @module Runs the reference pipeline locally: producer -> kinesalite -> event-source runner -> consumer -> DynamoDB Local. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateStreamCommand, DeleteStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { invalidOption, rejectUnknownOptions } from '../../errors.js';
import type { OutcomeEvent } from '../../observe/events.js';
import { readCommitLog } from '../../testing/commit-log.js';
import { runKinesisEventSource } from '../../testing/event-source/kinesis-source.js';
import type { EventSourceStats } from '../../testing/event-source/stats.js';
import { SimulatedCrash } from '../../testing/faults.js';
import { waitForActiveStream } from '../../testing/kinesis-engine.js';
import { seededRandom } from '../../testing/random.js';
import { uniqueTableName } from '../../testing/tables.js';
import { type Harness, openHarness } from '../harness.js';
import {
  type ConsumerContext,
  kinesisProducer,
  naiveConsumer,
  type PipelineConsumer,
  type PipelineProducer,
  type ProducerContext,
  safeConsumer,
} from './consumers.js';
import { judgePipeline, type PipelineVerdict } from './verdict.js';
import { gatewayPartitionKey, highestVersions, producerInvocations, type StateChange } from './workload.js';

/** Which consumer runs: the story's consumer (read the batch's state, compare, put), or `kinesisHandler` with `putIfNewer`. */
export type PipelineVariant = 'naive' | 'safe';

/** The engines a run uses; the caller starts and stops them. */
export interface PipelineEngines {
  /** DynamoDB Local's endpoint: the consumer gets a client of its own, so its injected crashes stay its own. */
  readonly endpoint: string;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  /** A kinesalite client (HTTP/1.1). */
  readonly kinesis: KinesisClient;
}

/** Seeded faults, each a probability. */
export interface PipelineFaults {
  /** A producer invocation is retried later, publishing its changes again. @default 0.1 */
  readonly producerRetry?: number;
  /** A batch is delivered again after it succeeded (a lost checkpoint). @default 0.05 */
  readonly duplicateDelivery?: number;
  /** A successful invocation's response is lost: Lambda retries the whole batch. @default 0.05 */
  readonly lostResponse?: number;
  /** A batch is invoked twice at once (a retry racing a running invocation). @default 0.1 */
  readonly concurrentInvocation?: number;
  /** The consumer dies right after a PutItem landed (mid-batch): the invocation fails with that record. @default 0.005 */
  readonly crash?: number;
}

export interface PipelineOptions {
  readonly variant: PipelineVariant;
  /** Changes produced (before producer retries). @default 2000 */
  readonly events?: number;
  /** @default 20 */
  readonly keys?: number;
  /** Kinesis shards. @default 4 */
  readonly shards?: number;
  /** Seeds the workload and every fault, so a run replays its faults (not the machine's timing). @default 1 */
  readonly seed?: number;
  /** Records per invocation (`BatchSize`). @default 100 */
  readonly batchSize?: number;
  /** Concurrent batches per shard (`ParallelizationFactor`). @default 4 */
  readonly parallelizationFactor?: number;
  /** The safe consumer writes only each key's highest version in a batch. @default false */
  readonly collapse?: boolean;
  /** @default see {@link PipelineFaults} */
  readonly faults?: PipelineFaults;
  /**
   * How the producer partitions the stream: by `key` (one key's changes share a shard and are consumed in order), or
   * by the `gateway` that relayed the change (16 gateways; one key's changes spread over shards and concurrent
   * batches, as in a fleet of devices reporting through gateways). @default 'gateway'
   */
  readonly partitionBy?: 'key' | 'gateway';
  /** Builds the consumer. @default racesafe's `kinesisHandler` + `putIfNewer` for `safe`, read-the-batch-then-compare-and-put for `naive` */
  readonly consumer?: (context: ConsumerContext) => PipelineConsumer;
  /** Builds the producer. @default PutRecords, re-sending failed entries */
  readonly producer?: (context: ProducerContext) => PipelineProducer;
  /** Called about once a second while records flow, and once at the end. @default none */
  readonly onProgress?: (progress: PipelineProgress) => void;
}

/** What the consumer decided, per record handled (a redelivered record counts each time). */
export interface ConsumerCounts {
  readonly applied: number;
  readonly stale: number;
  readonly duplicate: number;
  /** Records that failed: injected crashes, and their lane's later records (reported failed, redelivered). */
  readonly failed: number;
}

export interface PipelineProgress {
  /** Records published so far (producer retries included). */
  readonly published: number;
  /** Distinct published records the consumer has handled. */
  readonly consumed: number;
  readonly outcomes: ConsumerCounts;
  readonly source: EventSourceStats;
}

export interface PipelineResult {
  readonly variant: PipelineVariant;
  readonly seed: number;
  readonly events: number;
  readonly keys: number;
  readonly shards: number;
  readonly batchSize: number;
  readonly parallelizationFactor: number;
  readonly collapse: boolean;
  readonly partitionBy: 'key' | 'gateway';
  readonly produced: { readonly events: number; readonly records: number; readonly producerRetries: number };
  /** Distinct published records the consumer handled at least once. */
  readonly consumed: number;
  readonly outcomes: ConsumerCounts;
  readonly source: EventSourceStats;
  readonly crashes: number;
  readonly verdict: PipelineVerdict;
  readonly durationMs: number;
}

const optionNames = [
  'variant',
  'events',
  'keys',
  'shards',
  'seed',
  'batchSize',
  'parallelizationFactor',
  'collapse',
  'faults',
  'partitionBy',
  'consumer',
  'producer',
  'onProgress',
];
const faultNames = ['producerRetry', 'duplicateDelivery', 'lostResponse', 'concurrentInvocation', 'crash'];

/** Changes per producer invocation. */
const producerChunk = 250;

/**
 * Runs the pipeline once and judges it. The runner starts before the producer, so records are consumed while they
 * are published, as in production.
 *
 * @example
 * ```ts
 * import { runPipeline } from './run.js';
 * import { startDynamoDB, startKinesis } from '../../testing/index.js';
 *
 * const db = await startDynamoDB({ engine: 'dynamodb-local' });
 * const kinesis = await startKinesis();
 * const result = await runPipeline({ ...db, kinesis: kinesis.client }, { variant: 'safe', events: 1000, keys: 20 });
 * console.log(result.verdict.holds);
 * ```
 */
export async function runPipeline(engines: PipelineEngines, options: PipelineOptions): Promise<PipelineResult> {
  rejectUnknownOptions(options, optionNames, 'runPipeline');
  rejectUnknownOptions(options.faults, faultNames, 'runPipeline.faults');
  if (options.variant !== 'naive' && options.variant !== 'safe') {
    throw invalidOption('runPipeline.variant', "must be 'naive' or 'safe'");
  }
  const events = options.events ?? 2000;
  const keys = options.keys ?? 20;
  const shards = options.shards ?? 4;
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? 100;
  const parallelizationFactor = options.parallelizationFactor ?? 4;
  const collapse = options.collapse ?? false;
  const partitionBy = options.partitionBy ?? 'gateway';
  if (partitionBy !== 'key' && partitionBy !== 'gateway') {
    throw invalidOption('runPipeline.partitionBy', "must be 'key' or 'gateway'");
  }
  const faults = {
    producerRetry: options.faults?.producerRetry ?? 0.1,
    duplicateDelivery: options.faults?.duplicateDelivery ?? 0.05,
    lostResponse: options.faults?.lostResponse ?? 0.05,
    concurrentInvocation: options.faults?.concurrentInvocation ?? 0.1,
    crash: options.faults?.crash ?? 0.005,
  };
  requireWhole(events, 1, 1_000_000, 'events');
  requireWhole(keys, 1, Math.min(events, 10_000), 'keys');
  requireWhole(shards, 1, 50, 'shards');
  requireWhole(seed, 0, 2 ** 32 - 1, 'seed');
  const started = performance.now();

  const invocations = producerInvocations(seededRandom(seed), {
    events,
    keys,
    chunk: producerChunk,
    retryRate: faults.producerRetry,
  });
  const produced = highestVersions(invocations);
  // The consumer's client is the harness's (its own stack: the injected crashes never touch the lab's reads); the
  // event source runner, not the scheduler, decides the concurrency here.
  const harness = openHarness({ endpoint: engines.endpoint, seed, gate: false });
  try {
    return await runWithHarness(harness);
  } finally {
    await harness.close();
  }

  async function runWithHarness(harness: Harness): Promise<PipelineResult> {
    const { name: tableName, streamArn } = await harness.table('pipeline_state', {
      partitionKey: 'key',
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const streamName = uniqueTableName('pipeline_events');
    if (streamArn === undefined) throw invalidOption('engine', 'the pipeline needs a table stream: use DynamoDB Local');
    await engines.kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
    await waitForActiveStream(engines.kinesis, streamName);

    const consumerClient = harness.client;
    const crashes = injectCrashes(consumerClient, faults.crash, seed);
    const counts = { applied: 0, stale: 0, duplicate: 0, failed: 0 };
    const consumedIds = new Set<string>();
    const observe = (event: OutcomeEvent) => {
      if (event.status === 'applied' || event.status === 'stale' || event.status === 'duplicate') {
        counts[event.status] += 1;
        const eventId = event.context?.eventId;
        if (typeof eventId === 'string') consumedIds.add(eventId);
      } else counts.failed += 1;
    };
    const build = options.consumer ?? (options.variant === 'safe' ? safeConsumer : naiveConsumer);
    const consume = build({ client: consumerClient, tableName, collapse, observe });
    let published = 0;
    const runner = await runKinesisEventSource({
      client: engines.kinesis,
      streamName,
      // A consumer that throws (the naive one) fails the whole batch, which Lambda retries whole.
      handler: async (event) => (await consume(event)) ?? undefined,
      batchSize,
      parallelizationFactor,
      // Lambda's default retries until the record expires; a bound keeps a broken consumer from running forever.
      maxRetries: 100,
      faults: {
        seed,
        duplicateDelivery: faults.duplicateDelivery,
        lostResponse: faults.lostResponse,
        concurrentInvocation: faults.concurrentInvocation,
      },
    });
    const progress = (): PipelineProgress => ({
      published,
      consumed: consumedIds.size,
      outcomes: { ...counts },
      source: runner.stats(),
    });
    const ticker = options.onProgress ? setInterval(() => options.onProgress?.(progress()), 1000) : undefined;
    try {
      const partitionKey =
        partitionBy === 'key'
          ? (change: StateChange) => change.key
          : (change: StateChange) => gatewayPartitionKey(change, 16);
      const produce = (options.producer ?? kinesisProducer)({ kinesis: engines.kinesis, streamName, partitionKey });
      // One producer invocation at a time: each key's changes are published in version order, retries aside.
      for (const invocation of invocations) published += await produce(invocation.changes);
      await runner.drain();
    } finally {
      if (ticker) clearInterval(ticker);
      await runner.stop();
    }
    options.onProgress?.(progress());

    const stored = await readState(engines.dynamodb, tableName);
    const log = await readCommitLog(engines.streams, streamArn);
    await engines.kinesis.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
    return {
      variant: options.variant,
      seed,
      events,
      keys,
      shards,
      batchSize,
      parallelizationFactor,
      collapse,
      partitionBy,
      produced: {
        events,
        records: published,
        producerRetries: invocations.filter((invocation) => invocation.retry).length,
      },
      consumed: consumedIds.size,
      outcomes: { ...counts },
      source: runner.stats(),
      crashes: crashes.count,
      verdict: judgePipeline(produced, stored, log),
      durationMs: performance.now() - started,
    };
  }
}

/**
 * The consumer dies right after a PutItem was committed: the worst moment, since the write landed and the invocation
 * still fails. Added at the `initialize` step, above the SDK's retries, so the crash is per call, not per attempt.
 */
function injectCrashes(client: DynamoDBDocumentClient, probability: number, seed: number): { readonly count: number } {
  const random = seededRandom(seed ^ 0x5eed);
  const injected = { count: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutItemCommand' || context.commandName === 'PutCommand') {
        if (random() < probability) {
          injected.count += 1;
          throw new SimulatedCrash('PutItem', 'after');
        }
      }
      return result;
    },
    { step: 'initialize', name: 'racesafePipelineCrash' },
  );
  return injected;
}

/** Each key's stored version, read with a consistent scan. */
export async function readState(dynamodb: DynamoDBClient, tableName: string): Promise<Map<string, number | undefined>> {
  const client = DynamoDBDocumentClient.from(dynamodb);
  const stored = new Map<string, number | undefined>();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) stored.set(String(item.key), Number(item.version));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return stored;
}

function requireWhole(value: number, min: number, max: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidOption(`runPipeline.${name}`, `must be a whole number from ${min} to ${max}`);
  }
}
