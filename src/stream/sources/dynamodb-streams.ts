/** @module DynamoDB Streams as a source: records keyed by item key, payload is the change with images unmarshalled. */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { invalidInput } from '../../errors.js';
import type { Item } from '../../table.js';
import { decodeBase64 } from '../decode.js';
import { processBatch } from '../handler.js';
import { resolveStreamOptions, type StreamHandlerOptions } from '../options.js';
import type { Decoded, Source, SourceRecord } from '../record.js';

/** What `parse` receives for a DynamoDB Streams record: the change, with its images as plain objects. */
export interface DynamoDBChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Item;
  /** The item after the change; absent on REMOVE and with a KEYS_ONLY or OLD_IMAGE stream. */
  readonly newImage: Item | undefined;
  /** The item before the change; present with an OLD_IMAGE or NEW_AND_OLD_IMAGES stream. */
  readonly oldImage: Item | undefined;
}

/**
 * A DynamoDB Streams batch comes from one shard in sequence order; each item's changes are in one shard, in order.
 * Failures are reported by `dynamodb.SequenceNumber`, with the same checkpoint rule as Kinesis.
 */
export const dynamoDBStreamsSource: Source<DynamoDBStreamEvent, DynamoDBRecord> = {
  name: 'dynamoDBStreamHandler',
  records: (event) => event.Records,
  describe(raw, index): SourceRecord<DynamoDBRecord> {
    const sequenceNumber = raw.dynamodb?.SequenceNumber;
    if (typeof sequenceNumber !== 'string' || sequenceNumber === '') {
      throw invalidInput(
        `Records[${index}].dynamodb.SequenceNumber`,
        'a DynamoDB Streams record needs its sequence number',
      );
    }
    return {
      index,
      itemIdentifier: sequenceNumber,
      eventId: raw.eventID ?? sequenceNumber,
      sourceKey: stableKey(raw.dynamodb?.Keys),
      orderGroup: undefined,
      decoded: decodeChange(raw),
      raw,
    };
  },
  origin: (raw) => raw.eventSourceARN ?? 'dynamodb-streams',
};

/** The item's keys as a stable string (attribute names sorted), so one item's changes share a lane. */
function stableKey(keys: Record<string, AttributeValue> | undefined): string {
  if (keys === undefined) return '';
  return JSON.stringify(
    Object.keys(keys)
      .sort()
      .map((name) => [name, keys[name]]),
  );
}

function decodeChange(raw: DynamoDBRecord): Decoded {
  const eventName = raw.eventName;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    return { ok: false, reason: `undecodable: unknown eventName ${String(eventName)}` };
  }
  try {
    const stream = raw.dynamodb ?? {};
    const change: DynamoDBChange = {
      eventName,
      keys: image(stream.Keys) ?? {},
      newImage: image(stream.NewImage),
      oldImage: image(stream.OldImage),
    };
    return { ok: true, payload: change };
  } catch (error) {
    return { ok: false, reason: `undecodable image: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function image(wire: Record<string, AttributeValue> | undefined): Item | undefined {
  if (wire === undefined) return undefined;
  const sdk: Record<string, SdkAttributeValue> = {};
  for (const [name, value] of Object.entries(wire)) sdk[name] = toSdk(value);
  return unmarshall(sdk) as Item;
}

/** Lambda's JSON carries binary as base64 strings; `unmarshall` expects bytes. */
function toSdk(value: AttributeValue): SdkAttributeValue {
  if (value.B !== undefined) return { B: bytes(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(bytes) };
  if (value.L !== undefined) return { L: value.L.map(toSdk) };
  if (value.M !== undefined) {
    const M: Record<string, SdkAttributeValue> = {};
    for (const [name, element] of Object.entries(value.M)) M[name] = toSdk(element);
    return { M };
  }
  return value as SdkAttributeValue;
}

function bytes(base64: string): Uint8Array {
  const decoded = decodeBase64(base64);
  if (decoded === undefined) throw new TypeError('binary attribute is not valid base64');
  return decoded;
}

/**
 * A DynamoDB Streams consumer Lambda handler that returns a partial batch response. `parse` receives a
 * {@link DynamoDBChange} (event name, keys, images as plain objects); the default lane key is the item's key, so one
 * item's changes apply in order. Failures follow the Kinesis rule: redelivery from the lowest failed sequence number.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { defineTable, putIfNewer } from 'racesafe';
 * import { type DynamoDBChange, dynamoDBStreamHandler } from 'racesafe/stream';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const replica = defineTable({ client, name: 'orders-replica', partitionKey: 'orderId' });
 *
 * export const handler = dynamoDBStreamHandler({
 *   parse: (change: unknown) => {
 *     const image = (change as DynamoDBChange).newImage;
 *     if (image === undefined) throw new Error('no new image');
 *     return image;
 *   },
 *   handle: (order, record) => putIfNewer(replica, order, record.callOptions),
 * });
 * ```
 */
export function dynamoDBStreamHandler<E = unknown>(
  options: StreamHandlerOptions<E, DynamoDBRecord>,
): (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse> {
  const resolved = resolveStreamOptions(options, 'dynamoDBStreamHandler');
  return (event) => processBatch(dynamoDBStreamsSource, resolved, event);
}
