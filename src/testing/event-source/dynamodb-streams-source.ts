/** @module Lambda's DynamoDB Streams event source mapping, played locally against DynamoDB Local streams. */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { invalidOption, rejectUnknownOptions } from '../../errors.js';
import type { SourceRecord } from './batch-processor.js';
import { dynamoDBEventRecord } from './lambda-events.js';
import { type EventSourceOptions, eventSourceOptionNames, resolveEventSourceOptions } from './options.js';
import { type EventSourceRunner, type ShardListing, type StreamSource, startEventSource } from './runner.js';
import type { ShardPosition } from './shard-poller.js';

/** Options of {@link runDynamoDBStreamsEventSource}. */
export interface DynamoDBStreamsEventSourceOptions
  extends EventSourceOptions<DynamoDBStreamEvent, DynamoDBRecord, DynamoDBBatchResponse> {
  /** The caller's DynamoDB Streams client (`startDynamoDB().streams`). It is never destroyed here. */
  readonly client: DynamoDBStreamsClient;
  /** The table's stream (`createTable(...).streamArn`). */
  readonly streamArn: string;
}

const where = 'runDynamoDBStreamsEventSource';

/**
 * Polls every shard of a table's stream and invokes `handler` with `DynamoDBStreamEvent`s shaped as Lambda's, with
 * the same retry, bisect, `onFailure`, parallelization and fault options as the Kinesis source. Records are kept in
 * order per item partition key (the stream's HASH key attribute).
 *
 * @example
 * ```ts
 * import type { DynamoDBStreamHandler } from 'aws-lambda';
 * import { createTable, runDynamoDBStreamsEventSource, startDynamoDB } from 'racesafe/testing';
 *
 * const db = await startDynamoDB({ engine: 'dynamodb-local' });
 * const table = await createTable(db.client, { name: 'orders', partitionKey: 'pk', stream: 'NEW_AND_OLD_IMAGES' });
 * const handler: DynamoDBStreamHandler = async (event) => {
 *   for (const record of event.Records) console.log(record.eventName, record.dynamodb?.Keys);
 * };
 * const runner = await runDynamoDBStreamsEventSource({ client: db.streams, streamArn: table.streamArn ?? '', handler });
 * await runner.drain();
 * await runner.stop();
 * await db.stop();
 * ```
 */
export async function runDynamoDBStreamsEventSource(
  options: DynamoDBStreamsEventSourceOptions,
): Promise<EventSourceRunner> {
  rejectUnknownOptions(options, [...eventSourceOptionNames, 'client', 'streamArn'], where);
  if (typeof options.streamArn !== 'string' || options.streamArn === '') {
    throw invalidOption(`${where}.streamArn`, 'must be a non-empty stream ARN');
  }
  // DynamoDB Streams' GetRecords returns at most 1,000 records, and Lambda caps BatchSize there (it is 10,000 for Kinesis).
  if (options.batchSize !== undefined && options.batchSize > 1000) {
    throw invalidOption(`${where}.batchSize`, 'must be an integer from 1 to 1000');
  }
  const resolved = resolveEventSourceOptions(options, where);
  const { client, streamArn } = options;
  const description = await describe(client, streamArn);
  const hashKey = description.hashKey;
  const region = await client.config.region();
  const source: StreamSource<DynamoDBStreamEvent, DynamoDBRecord> = {
    streamArn,
    async listShards() {
      return (await describe(client, streamArn)).shards.map(toListing);
    },
    async iterator(shardId: string, position: ShardPosition) {
      const response = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequenceNumber } : {}),
        }),
      );
      return response.ShardIterator;
    },
    async read(shardId: string, iterator: string, limit: number) {
      const response = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(limit, 1000) }),
      );
      const records = (response.Records ?? []).map((record): SourceRecord<DynamoDBRecord> => {
        const eventRecord = dynamoDBEventRecord(record, { streamArn, region });
        const sequenceNumber = eventRecord.dynamodb?.SequenceNumber ?? '';
        const keyValue = hashKey === undefined ? undefined : eventRecord.dynamodb?.Keys?.[hashKey];
        return {
          sequenceNumber,
          partitionKey: JSON.stringify(keyValue ?? eventRecord.dynamodb?.Keys ?? null),
          id: `${shardId}:${sequenceNumber}`,
          arrivalMs: record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0,
          eventRecord,
        };
      });
      return { records, nextIterator: response.NextShardIterator };
    },
    toEvent: (records) => ({ Records: records }),
  };
  return startEventSource(source, resolved);
}

async function describe(
  client: DynamoDBStreamsClient,
  streamArn: string,
): Promise<{ shards: Shard[]; hashKey: string | undefined }> {
  const shards: Shard[] = [];
  let hashKey: string | undefined;
  let exclusiveStartShardId: string | undefined;
  do {
    const response = await client.send(
      new DescribeStreamCommand({
        StreamArn: streamArn,
        ...(exclusiveStartShardId === undefined ? {} : { ExclusiveStartShardId: exclusiveStartShardId }),
      }),
    );
    const stream = response.StreamDescription;
    hashKey ??= stream?.KeySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
    shards.push(...(stream?.Shards ?? []));
    exclusiveStartShardId = stream?.LastEvaluatedShardId;
  } while (exclusiveStartShardId !== undefined);
  return { shards, hashKey };
}

function toListing(shard: Shard): ShardListing {
  return {
    shardId: shard.ShardId ?? '',
    parentShardIds: shard.ParentShardId === undefined ? [] : [shard.ParentShardId],
  };
}
