import { describe, expect, it } from 'vitest';
import { batchItemFailures } from './batch-response.js';
import { dynamoDBStreamsSource } from './sources/dynamodb-streams.js';
import { kinesisSource } from './sources/kinesis.js';
import { sqsSource } from './sources/sqs.js';
import { dynamoDBRecord, kinesisRecord, sequenceNumber, sqsRecord } from './stream.test-support.js';

describe('batchItemFailures', () => {
  it('Kinesis: the failed sequence numbers, in batch order', () => {
    const records = [1, 2, 3, 4].map((n, index) => kinesisSource.describe(kinesisRecord(`k${n}`, {}, n), index));
    expect(batchItemFailures(records, new Set([3, 1]))).toEqual([
      { itemIdentifier: sequenceNumber(2) },
      { itemIdentifier: sequenceNumber(4) },
    ]);
    expect(batchItemFailures(records, new Set())).toEqual([]);
  });

  it('DynamoDB Streams: the failed dynamodb.SequenceNumber values', () => {
    const records = [1, 2, 3].map((n, index) =>
      dynamoDBStreamsSource.describe(dynamoDBRecord(`k${n}`, { pk: `k${n}` }, n), index),
    );
    expect(batchItemFailures(records, new Set([1]))).toEqual([{ itemIdentifier: '1002' }]);
  });

  it('SQS standard: only the failed message ids', () => {
    const records = ['m1', 'm2', 'm3'].map((id, index) => sqsSource.describe(sqsRecord(id, {}), index));
    expect(batchItemFailures(records, new Set([0]))).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('SQS FIFO: the failed message and every later message of its group, not earlier ones, not other groups', () => {
    const batch = [
      sqsRecord('g1-a', {}, 'g1'),
      sqsRecord('g2-a', {}, 'g2'),
      sqsRecord('g1-b', {}, 'g1'),
      sqsRecord('g1-c', {}, 'g1'),
      sqsRecord('g2-b', {}, 'g2'),
      sqsRecord('g1-d', {}, 'g1'),
    ];
    const records = batch.map((record, index) => sqsSource.describe(record, index));
    expect(batchItemFailures(records, new Set([2]))).toEqual([
      { itemIdentifier: 'g1-b' },
      { itemIdentifier: 'g1-c' },
      { itemIdentifier: 'g1-d' },
    ]);
  });
});
