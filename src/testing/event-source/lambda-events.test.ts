import { describe, expect, it } from 'vitest';
import { dynamoDBEventRecord, kinesisEventRecord, lambdaContext, toWireAttributeValue } from './lambda-events.js';

const source = { streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/events', region: 'us-east-1' };

describe('kinesisEventRecord', () => {
  it('matches the sample event of the Lambda developer guide, field for field', () => {
    const sequenceNumber = '49590338271490256608559692538361571095921575989136588898';
    const record = kinesisEventRecord(
      {
        SequenceNumber: sequenceNumber,
        PartitionKey: '1',
        Data: new TextEncoder().encode('Hello, this is a test.'),
        ApproximateArrivalTimestamp: new Date(1545084650987),
      },
      'shardId-000000000006',
      source,
    );
    expect(record).toStrictEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: '1',
        sequenceNumber,
        data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
        approximateArrivalTimestamp: 1545084650.987,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000006:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::/),
      awsRegion: 'us-east-1',
      eventSourceARN: source.streamArn,
    });
  });
});

describe('dynamoDBEventRecord', () => {
  it('passes the stream record through in the wire format, with epoch seconds and the stream ARN', () => {
    const record = dynamoDBEventRecord(
      {
        eventID: 'c4ca4238a0b923820dcc509a6f75849b',
        eventName: 'REMOVE',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'eu-west-1',
        userIdentity: { PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' },
        dynamodb: {
          ApproximateCreationDateTime: new Date(1480642020000),
          Keys: { Id: { N: '101' } },
          OldImage: { Id: { N: '101' }, Payload: { B: new Uint8Array([0xff]) } },
          SequenceNumber: '4421584500000000017450439091',
          SizeBytes: 38,
          StreamViewType: 'OLD_IMAGE',
        },
      },
      { streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2015-06-27T00:48:05.899', region: 'x' },
    );
    expect(record).toStrictEqual({
      eventID: 'c4ca4238a0b923820dcc509a6f75849b',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      userIdentity: { principalId: 'dynamodb.amazonaws.com', type: 'Service' },
      dynamodb: {
        ApproximateCreationDateTime: 1480642020,
        Keys: { Id: { N: '101' } },
        OldImage: { Id: { N: '101' }, Payload: { B: '/w==' } },
        SequenceNumber: '4421584500000000017450439091',
        SizeBytes: 38,
        StreamViewType: 'OLD_IMAGE',
      },
      eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2015-06-27T00:48:05.899',
    });
  });
});

describe('toWireAttributeValue', () => {
  it('encodes binary as base64 at every depth and keeps the other types as they are', () => {
    const bytes = new Uint8Array([104, 105]);
    expect(
      toWireAttributeValue({
        M: {
          list: { L: [{ B: bytes }, { NULL: true }, { BOOL: false }] },
          set: { BS: [bytes] },
          strings: { SS: ['a'] },
          numbers: { NS: ['1'] },
        },
      }),
    ).toStrictEqual({
      M: {
        list: { L: [{ B: 'aGk=' }, { NULL: true }, { BOOL: false }] },
        set: { BS: ['aGk='] },
        strings: { SS: ['a'] },
        numbers: { NS: ['1'] },
      },
    });
  });
});

describe('lambdaContext', () => {
  it('counts the remaining time down from the timeout and carries the request id', () => {
    const context = lambdaContext('request-1', 60_000);
    expect(context.awsRequestId).toBe('request-1');
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(60_000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});
