/** @module Lambda events for the stream tests, built as Lambda builds them (the event-source runner's builders). */
import type { AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, KinesisStreamRecord, SQSRecord } from 'aws-lambda';
import { dynamoDBEventRecord, kinesisEventRecord } from '../testing/event-source/lambda-events.js';

const kinesisSource = { streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/events', region: 'us-east-1' };
const streamsSource = {
  streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/source/stream/2024-01-01T00:00:00.000',
  region: 'us-east-1',
};

/** A Kinesis sequence number of the realistic width (56 digits) whose order is `n`'s. */
export function sequenceNumber(n: number): string {
  return `49590338271490256608559692538361571095921575989136${String(n).padStart(6, '0')}`;
}

/** A Kinesis record whose data is `body` as JSON, or the exact bytes given. */
export function kinesisRecord(partitionKey: string, body: unknown, n: number): KinesisStreamRecord {
  const data = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  return kinesisEventRecord(
    {
      SequenceNumber: sequenceNumber(n),
      PartitionKey: partitionKey,
      Data: data,
      ApproximateArrivalTimestamp: new Date(0),
    },
    'shardId-000000000000',
    kinesisSource,
  );
}

/** A Kinesis record whose `data` field is the given text, not base64 of anything. */
export function kinesisRecordWithData(partitionKey: string, data: string, n: number): KinesisStreamRecord {
  const record = kinesisRecord(partitionKey, {}, n);
  return { ...record, kinesis: { ...record.kinesis, data } };
}

/** A DynamoDB Streams MODIFY (or INSERT/REMOVE) record of an item keyed by `pk`. */
export function dynamoDBRecord(
  pk: string,
  newImage: Record<string, unknown> | undefined,
  n: number,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'MODIFY',
): DynamoDBRecord {
  return dynamoDBEventRecord(
    {
      eventID: `event-${n}`,
      eventName,
      dynamodb: {
        Keys: marshall({ pk }) as Record<string, AttributeValue>,
        ...(newImage === undefined ? {} : { NewImage: marshall(newImage) as Record<string, AttributeValue> }),
        SequenceNumber: String(1000 + n),
        StreamViewType: 'NEW_IMAGE',
      },
    },
    streamsSource,
  );
}

/** An SQS record as Lambda delivers it; with `group`, from a FIFO queue. */
export function sqsRecord(messageId: string, body: unknown, group?: string): SQSRecord {
  const fifo = group !== undefined;
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '0',
      ...(fifo ? { MessageGroupId: group, MessageDeduplicationId: messageId, SequenceNumber: messageId } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:orders${fifo ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

/** The `itemIdentifier`s of a batch response. */
export function failedIds(response: { batchItemFailures: { itemIdentifier: string }[] }): string[] {
  return response.batchItemFailures.map((failure) => failure.itemIdentifier);
}
