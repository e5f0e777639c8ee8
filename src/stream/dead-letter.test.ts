import { type SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { sqsDeadLetterSink } from './dead-letter.js';
import { kinesisHandler } from './sources/kinesis.js';
import { failedIds, kinesisRecord, kinesisRecordWithData, sequenceNumber } from './stream.test-support.js';

/**
 * A real SQSClient whose requests stop at the client boundary: the first middleware step records the command's input
 * and answers (or fails) as SQS would, so nothing leaves the process.
 */
function boundaryClient(answer: () => unknown = () => ({ MessageId: 'dlq-1', $metadata: {} })) {
  const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const sent: SendMessageCommandInput[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      sent.push(args.input as SendMessageCommandInput);
      return { output: answer() as never, response: {} };
    },
    { step: 'initialize', name: 'clientBoundary' },
  );
  return { client, sent };
}

const clients: SQSClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

describe('sqsDeadLetterSink', () => {
  it('sends one SendMessage per poison record: reason, ids and the raw record in the body', async () => {
    const { client, sent } = boundaryClient();
    clients.push(client);
    const queueUrl = 'https://sqs.us-east-1.amazonaws.com/000000000000/poison';
    const handled: string[] = [];
    const handler = kinesisHandler({
      onPoison: sqsDeadLetterSink({ client, queueUrl }),
      handle: (_event, record) => void handled.push(record.itemIdentifier),
    });
    const garbage = kinesisRecordWithData('a', '%%%', 1);
    const response = await handler({ Records: [garbage, kinesisRecord('b', { key: 'b', version: 1 }, 2)] });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handled).toEqual([sequenceNumber(2)]);
    expect(sent).toHaveLength(1);
    const message = sent[0] as SendMessageCommandInput;
    expect(message).toMatchObject({
      QueueUrl: queueUrl,
      MessageAttributes: {
        racesafeKind: { DataType: 'String', StringValue: 'undecodable' },
        racesafeEventId: { DataType: 'String', StringValue: garbage.eventID },
      },
    });
    expect(message.MessageGroupId).toBeUndefined();
    expect(message.MessageDeduplicationId).toBeUndefined();
    expect(JSON.parse(message.MessageBody ?? '')).toEqual({
      kind: 'undecodable',
      reason: 'undecodable: data is not valid base64',
      handler: 'kinesisHandler',
      origin: garbage.eventSourceARN,
      eventId: garbage.eventID,
      itemIdentifier: sequenceNumber(1),
      record: garbage,
    });
  });

  it('on a FIFO queue, sets the message group and a deduplication id stable across redeliveries', async () => {
    const { client, sent } = boundaryClient();
    clients.push(client);
    const sink = sqsDeadLetterSink<KinesisStreamRecord>({
      client,
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/poison.fifo',
    });
    const handler = kinesisHandler({ onPoison: sink, handle: () => undefined });
    const batch = { Records: [kinesisRecordWithData('a', '%%%', 1), kinesisRecordWithData('a', '%%%', 2)] };
    await handler(batch);
    await handler(batch);
    const ids = sent.map((message) => message.MessageDeduplicationId);
    expect(sent.map((message) => message.MessageGroupId)).toEqual(Array(4).fill('racesafe-poison'));
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('reports the record failed when SQS refuses the message', async () => {
    const { client } = boundaryClient(() => {
      throw Object.assign(new Error('Message must be shorter than 1048576 bytes.'), { name: 'InvalidParameterValue' });
    });
    clients.push(client);
    const handler = kinesisHandler({
      onPoison: sqsDeadLetterSink({ client, queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/poison' }),
      handle: () => undefined,
    });
    const response = await handler({ Records: [kinesisRecordWithData('a', '%%%', 1)] });
    expect(failedIds(response)).toEqual([sequenceNumber(1)]);
  });

  it('rejects unknown options and a missing queue URL', () => {
    const { client } = boundaryClient();
    clients.push(client);
    expect(() => sqsDeadLetterSink({ client, queueUrl: '' })).toThrow(/queueUrl/);
    expect(() => sqsDeadLetterSink({ client, queueUrl: 'q', region: 'x' } as never)).toThrow(/unknown option/);
  });
});
