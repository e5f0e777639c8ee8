/** @module Kinesis consumers under concurrency, redelivery and duplicates: the shared workload of two lab stories. */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as KinesisRecord,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import { kinesisHandler } from '../../stream/sources/kinesis.js';
import { readCommitLog } from '../../testing/commit-log.js';
import { kinesisEventRecord } from '../../testing/event-source/lambda-events.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { waitForActiveStream } from '../../testing/kinesis-engine.js';
import { type Random, shuffled } from '../../testing/random.js';
import { uniqueTableName } from '../../testing/tables.js';
import { putIfNewer } from '../../write/put-if-newer.js';
import { workerFailures } from '../runner.js';
import type { RunContext, RunVerdict } from '../scenario.js';

export interface DeliveryPlan {
  readonly keys: number;
  readonly versions: number;
  readonly shards: number;
  readonly batchSize: number;
  /** Chance the producer publishes an event twice (a retried PutRecords). */
  readonly producerDuplicates: number;
  /** Chance a batch is delivered again, overlapping later batches (a retry after a timeout, a duplicate invocation). */
  readonly redeliveries: number;
}

/** The event a producer publishes: a key's state at a version. */
interface StateEvent {
  readonly key: string;
  readonly version: number;
  readonly temperature: number;
}

/**
 * Publishes each key's versions in order to a fresh kinesalite stream (partitioned by key), reads the real records
 * back per shard, and delivers them to consumer invocations that run concurrently under the run's scheduler: batches
 * in shard order, plus seeded redeliveries of earlier batches. Then checks the state table's stream.
 */
export async function runStreamDelivery(context: RunContext, plan: DeliveryPlan): Promise<RunVerdict & { log: Log }> {
  const kinesis = context.kinesis;
  if (!kinesis) throw new Error('stream scenarios need kinesalite');
  const { table, name, streamArn } = await context.table({ stream: true });
  const streamName = uniqueTableName('lab_events');
  await kinesis.client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: plan.shards }));
  await waitForActiveStream(kinesis.client, streamName);
  try {
    await publish(kinesis.client, streamName, events(plan, context.random), plan, context.random);
    const shards = await readShards(kinesis.client, streamName);
    const source = { streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`, region: 'us-east-1' };
    const invocations: KinesisStreamRecord[][] = [];
    for (const [shardId, records] of shards) {
      const events = records.map((record) => kinesisEventRecord(record, shardId, source));
      for (let start = 0; start < events.length; start += plan.batchSize) {
        const batch = events.slice(start, start + plan.batchSize);
        invocations.push(batch);
        if (context.random() < plan.redeliveries) invocations.push(batch);
      }
    }
    // The safe consumer is the library's own shape: kinesisHandler (per-key lanes) writing with putIfNewer.
    const safeHandler = kinesisHandler<StateEvent>({
      key: (event) => event.key,
      handle: (event, record) =>
        putIfNewer(
          table,
          { pk: event.key, version: event.version, temperature: event.temperature },
          record.callOptions,
        ),
    });
    const consume = async (batch: readonly KinesisStreamRecord[]) => {
      if (context.variant === 'safe') {
        const response = await safeHandler({ Records: [...batch] });
        if (response.batchItemFailures.length > 0)
          throw new Error(`batch failures: ${JSON.stringify(response.batchItemFailures)}`);
        return;
      }
      for (const record of batch) {
        const event = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as StateEvent;
        const item = { pk: event.key, version: event.version, temperature: event.temperature };
        // The story's consumer: get, compare, put. Correct in every single-threaded test.
        const { Item } = await context.client.send(
          new GetCommand({ TableName: name, Key: { pk: event.key }, ConsistentRead: true }),
        );
        if (Item === undefined || Number(Item.version) < event.version) {
          await context.client.send(new PutCommand({ TableName: name, Item: item }));
        }
      }
    };
    const run = await context.race(shuffled(context.random, invocations).map((batch) => () => consume(batch)));
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    const log = await checkState(context, name, streamArn, plan, anomalies);
    return { anomalies, log };
  } finally {
    await kinesis.client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
  }
}

function events(plan: DeliveryPlan, random: Random): StateEvent[] {
  const out: StateEvent[] = [];
  for (let version = 1; version <= plan.versions; version++) {
    for (let key = 0; key < plan.keys; key++) {
      out.push({ key: `device-${key}`, version, temperature: Math.round(random() * 400) / 10 });
    }
  }
  return out;
}

async function publish(
  client: NonNullable<RunContext['kinesis']>['client'],
  streamName: string,
  list: readonly StateEvent[],
  plan: DeliveryPlan,
  random: Random,
): Promise<void> {
  const entries = list.flatMap((event) => {
    const entry = { PartitionKey: event.key, Data: Buffer.from(JSON.stringify(event)) };
    return random() < plan.producerDuplicates ? [entry, entry] : [entry];
  });
  // One request at a time keeps per-key order: PutRecords orders records within a request, and requests are serial.
  for (let start = 0; start < entries.length; start += 500) {
    await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries.slice(start, start + 500) }));
  }
}

async function readShards(
  client: NonNullable<RunContext['kinesis']>['client'],
  streamName: string,
): Promise<Map<string, KinesisRecord[]>> {
  const description = await client.send(new DescribeStreamCommand({ StreamName: streamName }));
  const shards = new Map<string, KinesisRecord[]>();
  for (const shard of description.StreamDescription?.Shards ?? []) {
    const shardId = shard.ShardId as string;
    const records: KinesisRecord[] = [];
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      records.push(...(page.Records ?? []));
      iterator = (page.Records ?? []).length === 0 ? undefined : page.NextShardIterator;
    }
    shards.set(shardId, records);
  }
  return shards;
}

/** What the state table's stream showed. */
export interface Log {
  /** A key's version went down after a higher one was committed. */
  readonly regressions: readonly string[];
  /** A version of a key was committed more than once: a stream record caused by a duplicate. */
  readonly rewrites: readonly string[];
}

async function checkState(
  context: RunContext,
  name: string,
  streamArn: string | undefined,
  plan: DeliveryPlan,
  anomalies: string[],
): Promise<Log> {
  for (let key = 0; key < plan.keys; key++) {
    const { Item } = await context.setupClient.send(
      new GetCommand({ TableName: name, Key: { pk: `device-${key}` }, ConsistentRead: true }),
    );
    if (Number(Item?.version) !== plan.versions) {
      anomalies.push(`device-${key} ends at version ${Item?.version}, not ${plan.versions}`);
    }
  }
  const regressions: string[] = [];
  const rewrites: string[] = [];
  if (streamArn) {
    const highest = new Map<string, number>();
    const seen = new Set<string>();
    for (const entry of await readCommitLog(context.streams, streamArn)) {
      const key = String(entry.keys.pk);
      const version = Number(entry.newImage?.version);
      const top = highest.get(key) ?? 0;
      if (version < top) regressions.push(`${key}: version ${version} committed after ${top}`);
      if (seen.has(`${key}@${version}`)) rewrites.push(`${key}: version ${version} committed again`);
      seen.add(`${key}@${version}`);
      highest.set(key, Math.max(top, version));
    }
  }
  return { regressions, rewrites };
}
