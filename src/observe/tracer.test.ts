import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import AWSXRay from 'aws-xray-sdk-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineTable } from '../table.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { powertoolsTracer } from './tracer.js';

/**
 * A real DynamoDBClient, instrumented by the real X-Ray SDK, whose HTTP handler answers at the client boundary as
 * DynamoDB does: 200, or 400 ConditionalCheckFailed with the stored item (ReturnValuesOnConditionCheckFailure).
 */
function instrumentedTable(segment: AWSXRay.Segment, answer: () => { status: number; body: object }) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        const { status, body } = answer();
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
          },
        };
      },
    },
  });
  AWSXRay.captureAWSv3Client(client, segment);
  return defineTable({
    client: DynamoDBDocumentClient.from(client),
    name: 'state',
    partitionKey: 'pk',
    observe: powertoolsTracer({ getSegment: () => segment }),
  });
}

const conditionFailed = (version: number) => ({
  status: 400,
  body: {
    __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
    message: 'The conditional request failed',
    Item: { pk: { S: 'a' }, version: { N: String(version) } },
  },
});

beforeAll(() => {
  AWSXRay.enableManualMode();
  AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
});

describe('powertoolsTracer', () => {
  it("clears the fault the SDK's X-Ray instrumentation puts on an expected skip, and annotates it", async () => {
    const segment = new AWSXRay.Segment('consumer');
    const state = instrumentedTable(segment, () => conditionFailed(42));
    const outcome = await putIfNewer(state, { pk: 'a', version: 41 });
    expect(outcome.status).toBe('stale');
    const [dynamodb] = segment.subsegments as unknown as Array<Record<string, unknown>>;
    expect(dynamodb).toMatchObject({ name: 'DynamoDB', fault: false, error: false });
    expect(dynamodb?.cause).toBeUndefined();
    expect(dynamodb?.annotations).toEqual({ racesafe_status: 'stale', racesafe_op: 'putIfNewer' });
    expect((segment as unknown as { exception?: unknown }).exception).toBeUndefined();
  });

  it('shows the naive twin: without the observer, the same stale write is a fault', async () => {
    const segment = new AWSXRay.Segment('consumer');
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => ({
          response: {
            statusCode: 400,
            headers: {},
            body: Readable.from([Buffer.from(JSON.stringify(conditionFailed(42).body))]),
          },
        }),
      },
    });
    AWSXRay.captureAWSv3Client(client, segment);
    const state = defineTable({ client: DynamoDBDocumentClient.from(client), name: 'state', partitionKey: 'pk' });
    expect((await putIfNewer(state, { pk: 'a', version: 41 })).status).toBe('stale');
    expect(segment.subsegments?.[0]).toMatchObject({ name: 'DynamoDB', fault: true, error: true });
  });

  it('leaves an applied write alone and keeps the fault of a real failure, annotated', async () => {
    const segment = new AWSXRay.Segment('consumer');
    let answer = { status: 200, body: {} as object };
    const state = instrumentedTable(segment, () => answer);
    expect((await putIfNewer(state, { pk: 'a', version: 1 })).status).toBe('applied');
    answer = { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message: 'bad' } };
    await expect(putIfNewer(state, { pk: 'a', version: 2 })).rejects.toThrow();
    const [applied, failed] = segment.subsegments as unknown as Array<Record<string, unknown>>;
    expect(applied).toMatchObject({ name: 'DynamoDB' });
    expect(applied?.fault).toBeFalsy();
    expect(applied?.annotations).toBeUndefined();
    // Not a condition failure: no racesafe annotation, and the fault stays for X-Ray to show.
    expect(failed).toMatchObject({ fault: true });
  });

  it('does nothing without a segment (outside Lambda, tracing disabled)', () => {
    const observe = powertoolsTracer({ getSegment: () => undefined });
    expect(() =>
      observe({ op: 'putIfNewer', table: 't', key: {}, status: 'stale', attempts: 1, latencyMs: 1 }),
    ).not.toThrow();
  });
});
