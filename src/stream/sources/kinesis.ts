/** @module Kinesis as a source: records keyed by partition key, failures reported by sequence number. */
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { invalidInput } from '../../errors.js';
import { decodeBase64Json } from '../decode.js';
import { processBatch } from '../handler.js';
import { resolveStreamOptions, type StreamHandlerOptions } from '../options.js';
import type { Source, SourceRecord } from '../record.js';

/**
 * A Kinesis batch comes from one shard in sequence order. The payload is the record's `data`: base64 of UTF-8 JSON.
 * Failures are reported by sequence number: Lambda checkpoints at the lowest one reported and redelivers from there
 * (Lambda developer guide, "Reporting batch item failures" for Kinesis).
 */
export const kinesisSource: Source<KinesisStreamEvent, KinesisStreamRecord> = {
  name: 'kinesisHandler',
  records: (event) => event.Records,
  describe(raw, index): SourceRecord<KinesisStreamRecord> {
    const sequenceNumber = raw.kinesis?.sequenceNumber;
    if (typeof sequenceNumber !== 'string' || sequenceNumber === '') {
      // An empty itemIdentifier makes Lambda fail the whole batch; refuse loudly instead.
      throw invalidInput(`Records[${index}].kinesis.sequenceNumber`, 'a Kinesis record needs its sequence number');
    }
    return {
      index,
      itemIdentifier: sequenceNumber,
      eventId: raw.eventID ?? sequenceNumber,
      sourceKey: raw.kinesis.partitionKey ?? '',
      orderGroup: undefined,
      decoded: decodeBase64Json(raw.kinesis.data),
      raw,
    };
  },
  origin: (raw) => raw.eventSourceARN ?? 'kinesis',
};

/**
 * A Kinesis consumer Lambda handler that returns a partial batch response. Records of one key run in order, keys run
 * in parallel, and a failure fails only its key's remaining records. Lambda then redelivers from the lowest failed
 * sequence number, including records already handled: harmless when `handle` writes with `putIfNewer` (a replayed
 * version is `duplicate` or `stale`) or `applyOnce` (a replayed event is `duplicate`).
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { defineTable, putIfNewer } from 'racesafe';
 * import { kinesisHandler } from 'racesafe/stream';
 * import { z } from 'zod';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
 * const Reading = z.object({ deviceId: z.string(), version: z.number().int().positive(), temperature: z.number() });
 *
 * export const handler = kinesisHandler({
 *   parse: Reading,
 *   key: (reading) => reading.deviceId,
 *   handle: (reading, record) => putIfNewer(state, reading, record.callOptions),
 * });
 * ```
 */
export function kinesisHandler<E = unknown>(
  options: StreamHandlerOptions<E, KinesisStreamRecord>,
): (event: KinesisStreamEvent, context?: Context) => Promise<KinesisStreamBatchResponse> {
  const resolved = resolveStreamOptions(options, 'kinesisHandler');
  return (event) => processBatch(kinesisSource, resolved, event);
}
