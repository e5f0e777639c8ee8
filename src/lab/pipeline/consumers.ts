/** @module The lab's own pipeline consumers and producer, on racesafe's public entry points: the CLI ships no sample code. */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { defineTable, type Observer, putIfNewer } from '../../index.js';
import { kinesisHandler } from '../../stream/index.js';
import type { StateChange } from './workload.js';

/** What a pipeline consumer is built from. */
export interface ConsumerContext {
  readonly client: DynamoDBDocumentClient;
  /** The state table: partition key `key`, version in `version`. */
  readonly tableName: string;
  /** Write only the highest version of each key in a batch (the safe consumer). */
  readonly collapse: boolean;
  /** Receives one outcome per record handled. */
  readonly observe: Observer;
}

/** A Kinesis consumer: answers with partial batch failures, or returns nothing and throws to fail the whole batch. */
export type PipelineConsumer = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

/** Publishes one producer invocation's changes; resolves with how many records it published. */
export type PipelineProducer = (changes: readonly StateChange[]) => Promise<number>;

/** What a producer is built from. */
export interface ProducerContext {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** The Kinesis partition key of a change. */
  readonly partitionKey: (change: StateChange) => string;
}

/** Validates a decoded payload; a record it refuses is poison for the safe consumer (reported, never written). */
export function parseStateChange(payload: unknown): StateChange {
  if (typeof payload !== 'object' || payload === null) throw new Error('a state change is a JSON object');
  const { key, version, temperature } = payload as Record<string, unknown>;
  if (typeof key !== 'string' || key === '') throw new Error('key must be a non-empty string');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new Error('version must be a positive safe integer');
  }
  if (typeof temperature !== 'number' || !Number.isFinite(temperature)) throw new Error('temperature must be a number');
  return { key, version, temperature };
}

/**
 * racesafe's consumer: `kinesisHandler` (per-key lanes, partial batch responses) around `putIfNewer`, one conditional
 * PutItem per record. `updatedAt` differs per write, as in most state tables, so a rewrite would reach the stream.
 */
export function safeConsumer(context: ConsumerContext): PipelineConsumer {
  const state = defineTable({ client: context.client, name: context.tableName, partitionKey: 'key' });
  return kinesisHandler({
    parse: parseStateChange,
    key: (change) => change.key,
    handle: (change, record) =>
      putIfNewer(state, { ...change, updatedAt: new Date().toISOString() }, record.callOptions),
    collapse: context.collapse,
    observe: context.observe,
  });
}

/**
 * The story's StateLambda as it is often written: read the stored version of every key in the batch once (one
 * consistent read per key, before any write), compare in the client, put each record that is newer than what was read
 * and than what this batch already wrote. Correct serially; but the read is as old as the batch, so a concurrent batch
 * on another shard (one key over many shards), a concurrent batch of the same shard (`ParallelizationFactor`) or a
 * whole-batch retry that writes a newer version in the meantime is overwritten by an older one, and when that batch
 * is the key's last, the key ends below its highest version. A failure throws: Lambda retries the whole batch.
 */
export function naiveConsumer(context: ConsumerContext): PipelineConsumer {
  const report = (status: 'applied' | 'stale' | 'duplicate', key: string, eventId: string, version: number) =>
    context.observe({
      op: 'naiveConsumer',
      table: context.tableName,
      key: { key },
      status,
      attempts: 1,
      latencyMs: 0,
      context: { eventId, version },
    });
  return async (event) => {
    const changes = event.Records.map((record) => ({
      record,
      change: parseStateChange(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'))),
    }));
    // The state as the batch starts: what this invocation believes is stored.
    const known = new Map<string, number>();
    for (const key of new Set(changes.map(({ change }) => change.key))) {
      const { Item } = await context.client.send(
        new GetCommand({ TableName: context.tableName, Key: { key }, ConsistentRead: true }),
      );
      known.set(key, Item === undefined ? 0 : Number(Item.version));
    }
    for (const { record, change } of changes) {
      const stored = known.get(change.key) ?? 0;
      if (stored >= change.version) {
        report(stored === change.version ? 'duplicate' : 'stale', change.key, record.eventID, change.version);
        continue;
      }
      // The race: another invocation may have written since the batch's read, and this put does not check.
      await context.client.send(
        new PutCommand({ TableName: context.tableName, Item: { ...change, updatedAt: new Date().toISOString() } }),
      );
      known.set(change.key, change.version);
      report('applied', change.key, record.eventID, change.version);
    }
    return undefined;
  };
}

/** PutRecords takes at most 500 records per request (Kinesis API reference, PutRecords). */
const maxRecordsPerRequest = 500;

/** A producer that publishes with PutRecords and re-sends the entries Kinesis reports failed. */
export function kinesisProducer(context: ProducerContext): PipelineProducer {
  return async (changes) => {
    const entries: PutRecordsRequestEntry[] = changes.map((change) => ({
      PartitionKey: context.partitionKey(change),
      Data: Buffer.from(JSON.stringify(change)),
    }));
    for (let start = 0; start < entries.length; start += maxRecordsPerRequest) {
      let pending = entries.slice(start, start + maxRecordsPerRequest);
      for (let round = 1; pending.length > 0; round++) {
        const response = await context.kinesis.send(
          new PutRecordsCommand({ StreamName: context.streamName, Records: pending }),
        );
        if (!response.FailedRecordCount) break;
        pending = pending.filter((_, index) => response.Records?.[index]?.ErrorCode !== undefined);
        if (round >= 5) throw new Error(`${pending.length} records could not be published after ${round} rounds`);
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      }
    }
    return entries.length;
  };
}
