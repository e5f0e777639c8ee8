/** @module Builds Kinesis and DynamoDB Streams event records exactly as Lambda's event source mapping hands them to a function. */
import type {
  AttributeValue as StreamsAttributeValue,
  _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { AttributeValue, Context, DynamoDBRecord, KinesisStreamRecord } from 'aws-lambda';

/** Where the records come from, as Lambda names it in every event record. */
export interface EventSourceIdentity {
  /** The stream's ARN (`eventSourceARN`). */
  readonly streamArn: string;
  /** The region (`awsRegion`) of a Kinesis record; DynamoDB Streams records carry their own. */
  readonly region: string;
}

/** The role Lambda reports as `invokeIdentityArn`: locally there is none, so a fixed, recognisable one. */
export const localInvokeIdentityArn = 'arn:aws:iam::000000000000:role/racesafe-local-event-source';

/**
 * A Kinesis record as Lambda delivers it: the data base64-encoded, `approximateArrivalTimestamp` in epoch seconds with
 * milliseconds as the fraction, and `eventID` = `shardId:sequenceNumber` (Lambda developer guide, "Using Lambda with
 * Kinesis", example event).
 *
 * @example
 * ```ts
 * import { kinesisEventRecord } from 'racesafe/testing';
 *
 * const record = kinesisEventRecord(
 *   { SequenceNumber: '1', PartitionKey: 'k', Data: new TextEncoder().encode('{}'), ApproximateArrivalTimestamp: new Date() },
 *   'shardId-000000000000',
 *   { streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/events', region: 'us-east-1' },
 * );
 * ```
 */
export function kinesisEventRecord(
  record: KinesisRecord,
  shardId: string,
  source: EventSourceIdentity,
): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: localInvokeIdentityArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

/**
 * A DynamoDB Streams record as Lambda delivers it: the stream record passed through, with `eventSourceARN` added, the
 * attribute values in the wire format (binary as base64 strings) and `ApproximateCreationDateTime` in epoch seconds.
 *
 * @example
 * ```ts
 * import { dynamoDBEventRecord } from 'racesafe/testing';
 *
 * const record = dynamoDBEventRecord(
 *   { eventID: 'e1', eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'a' } }, SequenceNumber: '100' } },
 *   { streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/label', region: 'us-east-1' },
 * );
 * ```
 */
export function dynamoDBEventRecord(record: StreamsRecord, source: EventSourceIdentity): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {};
  if (stream.ApproximateCreationDateTime !== undefined) {
    dynamodb.ApproximateCreationDateTime = stream.ApproximateCreationDateTime.getTime() / 1000;
  }
  if (stream.Keys !== undefined) dynamodb.Keys = toWireItem(stream.Keys);
  if (stream.NewImage !== undefined) dynamodb.NewImage = toWireItem(stream.NewImage);
  if (stream.OldImage !== undefined) dynamodb.OldImage = toWireItem(stream.OldImage);
  if (stream.SequenceNumber !== undefined) dynamodb.SequenceNumber = stream.SequenceNumber;
  if (stream.SizeBytes !== undefined) dynamodb.SizeBytes = stream.SizeBytes;
  if (stream.StreamViewType !== undefined) dynamodb.StreamViewType = stream.StreamViewType;
  const event: DynamoDBRecord = {
    eventID: record.eventID ?? '',
    eventName: record.eventName ?? 'MODIFY',
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion ?? source.region,
    dynamodb,
    eventSourceARN: source.streamArn,
  };
  // Only TTL deletions carry a userIdentity (principal dynamodb.amazonaws.com); Lambda passes it through.
  if (record.userIdentity !== undefined) {
    event.userIdentity = { principalId: record.userIdentity.PrincipalId, type: record.userIdentity.Type };
  }
  return event;
}

/** An item from the SDK's shape (binary as `Uint8Array`) to the JSON wire shape Lambda uses (binary as base64). */
export function toWireItem(item: Record<string, StreamsAttributeValue>): Record<string, AttributeValue> {
  const wire: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) wire[name] = toWireAttributeValue(value);
  return wire;
}

/**
 * One attribute value from the SDK's shape to the JSON wire shape of a Lambda event (binary as base64, at any depth).
 *
 * @example
 * ```ts
 * import { toWireAttributeValue } from 'racesafe/testing';
 *
 * toWireAttributeValue({ L: [{ B: new Uint8Array([104, 105]) }] }); // { L: [{ B: 'aGk=' }] }
 * ```
 */
export function toWireAttributeValue(value: StreamsAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toWireAttributeValue) };
  if (value.M !== undefined) return { M: toWireItem(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  throw new TypeError(`unknown attribute value type: ${Object.keys(value).join(', ')}`);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * A Lambda `Context` for one local invocation. The names say it is local; `getRemainingTimeInMillis` counts down from
 * `timeoutMs` so handlers that budget their time behave as in Lambda.
 */
export function lambdaContext(awsRequestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = 'racesafe-local-event-source';
  const noLongerSupported = () => {
    throw new TypeError('context.done/fail/succeed are not supported by the local event source: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: noLongerSupported,
    fail: noLongerSupported,
    succeed: noLongerSupported,
  };
}
