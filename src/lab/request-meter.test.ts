import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createFaults, isSimulatedCrash } from '../testing/faults.js';
import { meterRequests } from './request-meter.js';

/** A client whose wire is a stub (the client boundary): every attempt answers an empty GetItem. */
function stubbedClient() {
  const dynamodb = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    endpoint: 'http://127.0.0.1:1',
    requestHandler: {
      handle: async () => ({
        response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from('{}')]) },
      }),
    } as never,
  });
  return DynamoDBDocumentClient.from(dynamodb);
}

describe('meterRequests', () => {
  it('counts a call that crashed before its first attempt as no retry (never negative)', async () => {
    const client = stubbedClient();
    const meter = meterRequests(client);
    createFaults({ crash: { nth: 1, when: 'before' } }).attach(client);
    const get = () => client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
    await expect(get()).rejects.toSatisfy(isSimulatedCrash);
    await get();
    expect(meter.attempts).toBe(1);
    expect(meter.retries).toBe(0);
  });

  it("counts the SDK's retries of one call", async () => {
    const client = stubbedClient();
    const meter = meterRequests(client);
    createFaults({ lostResponse: { limit: 2 } }).attach(client);
    await client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
    expect(meter.attempts).toBe(3);
    expect(meter.retries).toBe(2);
  });
});
