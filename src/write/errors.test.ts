import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import { putIfNewer } from './put-if-newer.js';

/** A client that answers from a script: the client boundary, where mocks are allowed (error mapping only). */
function scriptedClient(script: Array<() => unknown>) {
  const calls: unknown[] = [];
  const client = {
    send: async (command: { input: unknown }) => {
      calls.push(command.input);
      const step = script.shift();
      if (!step) throw new Error('script exhausted');
      return step();
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

const awsError = (name: string) => Object.assign(new Error(name), { name, $metadata: {} });

describe('error mapping at the client boundary', () => {
  it('retries throttling that outlived the SDK, then reports applied with the attempts', async () => {
    const events: OutcomeEvent[] = [];
    const { client, calls } = scriptedClient([
      () => {
        throw awsError('ProvisionedThroughputExceededException');
      },
      () => ({}),
    ]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk', observe: (e) => events.push(e) });
    const outcome = await putIfNewer(table, { pk: 'a', version: 1 }, { throttle: { baseMs: 1, capMs: 1 } });
    expect(outcome.status).toBe('applied');
    expect(calls).toHaveLength(2);
    expect(events.map((e) => [e.status, e.attempts])).toEqual([
      ['retried', 1],
      ['applied', 2],
    ]);
  });

  it('wraps any other service error as service.failure with the cause, and emits error', async () => {
    const events: OutcomeEvent[] = [];
    const cause = awsError('ResourceNotFoundException');
    const { client } = scriptedClient([
      () => {
        throw cause;
      },
    ]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk', observe: (e) => events.push(e) });
    const error = (await putIfNewer(table, { pk: 'a', version: 1 }).catch((e: unknown) => e)) as RacesafeError;
    expect(error).toBeInstanceOf(RacesafeError);
    expect(error.code).toBe('service.failure');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ operation: 'putIfNewer', attempts: 1 });
    expect(events.map((e) => e.status)).toEqual(['error']);
  });

  it('gives up on throttling after maxAttempts', async () => {
    const throttled = () => {
      throw awsError('ThrottlingException');
    };
    const { client, calls } = scriptedClient([throttled, throttled]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    await expect(
      putIfNewer(table, { pk: 'a', version: 1 }, { throttle: { maxAttempts: 2, baseMs: 1, capMs: 1 } }),
    ).rejects.toMatchObject({ code: 'service.failure' });
    expect(calls).toHaveLength(2);
  });

  it('unmarshalls the ALL_OLD item of a condition failure (lib-dynamodb leaves it in wire format)', async () => {
    const failure = Object.assign(awsError('ConditionalCheckFailedException'), {
      Item: { pk: { S: 'a' }, version: { N: '9' }, _rsToken0: { S: 'other' } },
    });
    const { client } = scriptedClient([
      () => {
        throw failure;
      },
    ]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    expect(await putIfNewer(table, { pk: 'a', version: 3 })).toEqual({
      status: 'stale',
      current: { pk: 'a', version: 9 },
    });
  });

  it('never lets an observer that throws change the outcome', async () => {
    const { client } = scriptedClient([() => ({})]);
    const table = defineTable({
      client,
      name: 't',
      partitionKey: 'pk',
      observe: () => {
        throw new Error('observer bug');
      },
    });
    expect((await putIfNewer(table, { pk: 'a', version: 1 })).status).toBe('applied');
  });
});
