/** @module Lambda's Kinesis event source mapping, played locally against kinesalite (or any Kinesis endpoint). */
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { invalidOption, rejectUnknownOptions } from '../../errors.js';
import type { SourceRecord } from './batch-processor.js';
import { kinesisEventRecord } from './lambda-events.js';
import { type EventSourceOptions, eventSourceOptionNames, resolveEventSourceOptions } from './options.js';
import { type EventSourceRunner, type ShardListing, type StreamSource, startEventSource } from './runner.js';
import type { ShardPosition } from './shard-poller.js';

/** Options of {@link runKinesisEventSource}. */
export interface KinesisEventSourceOptions
  extends EventSourceOptions<KinesisStreamEvent, KinesisStreamRecord, KinesisStreamBatchResponse> {
  /** The caller's Kinesis client; kinesalite needs HTTP/1.1 (`startKinesis().client` is). It is never destroyed here. */
  readonly client: KinesisClient;
  /** The stream, by name: kinesalite ignores ARNs. */
  readonly streamName: string;
}

const where = 'runKinesisEventSource';

/**
 * Polls every shard of a Kinesis stream and invokes `handler` with events shaped exactly as Lambda's, honouring
 * partial batch responses, retries, bisection, `onFailure` and `parallelizationFactor`, with optional seeded faults.
 *
 * @example
 * ```ts
 * import { CreateStreamCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
 * import type { KinesisStreamHandler } from 'aws-lambda';
 * import { runKinesisEventSource, startKinesis } from 'racesafe/testing';
 *
 * const kinesis = await startKinesis();
 * await kinesis.client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 2 }));
 * await kinesis.client.send(new PutRecordCommand({ StreamName: 'events', PartitionKey: 'a', Data: new Uint8Array([1]) }));
 * const handler: KinesisStreamHandler = async (event) => {
 *   console.log(event.Records.length);
 *   return { batchItemFailures: [] };
 * };
 * const runner = await runKinesisEventSource({ client: kinesis.client, streamName: 'events', handler, maxRetries: 2 });
 * await runner.drain();
 * await runner.stop();
 * await kinesis.stop();
 * ```
 */
export async function runKinesisEventSource(options: KinesisEventSourceOptions): Promise<EventSourceRunner> {
  rejectUnknownOptions(options, [...eventSourceOptionNames, 'client', 'streamName'], where);
  if (typeof options.streamName !== 'string' || options.streamName === '') {
    throw invalidOption(`${where}.streamName`, 'must be a non-empty stream name');
  }
  const resolved = resolveEventSourceOptions(options, where);
  const { client, streamName } = options;
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const streamArn =
    summary.StreamDescriptionSummary?.StreamARN ?? `arn:aws:kinesis:local:000000000000:stream/${streamName}`;
  const region = await client.config.region();
  const source: StreamSource<KinesisStreamEvent, KinesisStreamRecord> = {
    streamArn,
    async listShards() {
      const shards: Shard[] = [];
      let nextToken: string | undefined;
      do {
        // ListShards takes either the stream name or a continuation token, never both.
        const page = await client.send(
          new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
        );
        shards.push(...(page.Shards ?? []));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      return shards.map(toListing);
    },
    async iterator(shardId: string, position: ShardPosition) {
      const response = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { StartingSequenceNumber: position.sequenceNumber } : {}),
        }),
      );
      return response.ShardIterator;
    },
    async read(shardId: string, iterator: string, limit: number) {
      const response = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(limit, 10_000) }),
      );
      const records = (response.Records ?? []).map((record): SourceRecord<KinesisStreamRecord> => {
        const eventRecord = kinesisEventRecord(record, shardId, { streamArn, region });
        return {
          sequenceNumber: eventRecord.kinesis.sequenceNumber,
          partitionKey: eventRecord.kinesis.partitionKey,
          id: eventRecord.eventID,
          arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
          eventRecord,
        };
      });
      return { records, nextIterator: response.NextShardIterator };
    },
    toEvent: (records) => ({ Records: records }),
  };
  return startEventSource(source, resolved);
}

function toListing(shard: Shard): ShardListing {
  const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined);
  return { shardId: shard.ShardId ?? '', parentShardIds: parents };
}
