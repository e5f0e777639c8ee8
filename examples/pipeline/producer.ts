/** @module The pipeline's producer Lambda: publishes versioned state changes to Kinesis, partitioned by key. */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { kinesisClientFromEnv, requiredEnv } from './config.js';
import type { StateChange } from './state-change.js';

/** What the producer is invoked with: changes read from the source of truth, each key's in version order. */
export interface ProducerEvent {
  readonly changes: readonly StateChange[];
}

export interface ProducerOptions {
  /** The caller's Kinesis client (HTTP/1.1 for kinesalite). */
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** Rounds of re-sending the entries a PutRecords call reported failed (throttled). @default 5 */
  readonly maxRounds?: number;
}

/** PutRecords takes at most 500 records per request (Kinesis API reference, PutRecords). */
const maxRecordsPerRequest = 500;

/**
 * Builds the producer's handler. Records are partitioned by key, so one key's changes share a shard. The producer
 * makes no effort to publish exactly once: PutRecords can fail part of a request, a retried invocation publishes its
 * changes again, and "PutRecords doesn't guarantee the ordering of records" once failed entries are re-sent. The
 * consumer's versioned writes make both harmless, which is the point of the pipeline.
 *
 * @example
 * ```ts
 * import { startKinesis } from 'racesafe/testing';
 * import { createProducer } from './producer.js';
 *
 * const kinesis = await startKinesis();
 * const produce = createProducer({ kinesis: kinesis.client, streamName: 'state-changes' });
 * await produce({ changes: [{ key: 'device-7', version: 1, temperature: 20.5 }] });
 * ```
 */
export function createProducer(options: ProducerOptions): (event: ProducerEvent) => Promise<{ published: number }> {
  const maxRounds = options.maxRounds ?? 5;
  return async (event) => {
    const entries: PutRecordsRequestEntry[] = event.changes.map((change) => ({
      PartitionKey: change.key,
      Data: Buffer.from(JSON.stringify(change)),
    }));
    for (let start = 0; start < entries.length; start += maxRecordsPerRequest) {
      await putAll(options, entries.slice(start, start + maxRecordsPerRequest), maxRounds);
    }
    return { published: entries.length };
  };
}

/** Sends the entries, re-sending those reported failed; throws (so Lambda retries the invocation) when some never go. */
async function putAll(options: ProducerOptions, entries: PutRecordsRequestEntry[], maxRounds: number): Promise<void> {
  let pending = entries;
  for (let round = 1; pending.length > 0; round++) {
    const response = await options.kinesis.send(
      new PutRecordsCommand({ StreamName: options.streamName, Records: pending }),
    );
    if (!response.FailedRecordCount) return;
    // Entries and results line up by index; a failed entry has an ErrorCode (throttling or an internal failure).
    pending = pending.filter((_, index) => response.Records?.[index]?.ErrorCode !== undefined);
    if (round >= maxRounds) throw new Error(`${pending.length} records could not be published after ${round} rounds`);
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
  }
}

let configured: ((event: ProducerEvent) => Promise<{ published: number }>) | undefined;

/** The Lambda entry point; `STREAM_NAME` names the stream, `KINESIS_ENDPOINT` optionally points at kinesalite. */
export const handler = (event: ProducerEvent): Promise<{ published: number }> => {
  configured ??= createProducer({ kinesis: kinesisClientFromEnv(), streamName: requiredEnv('STREAM_NAME') });
  return configured(event);
};
