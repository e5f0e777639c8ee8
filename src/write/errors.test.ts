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
    const outcome = await putIfNewer(table, { pk: 'a', version: 1 }, { retry: { baseMs: 1, capMs: 1 } });
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
      putIfNewer(table, { pk: 'a', version: 1 }, { retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } }),
    ).rejects.toMatchObject({ code: 'service.failure' });
    expect(calls).toHaveLength(2);
  });

  it('unmarshalls the ALL_OLD item of a condition failure (lib-dynamodb leaves it in wire format)', async () => {
    const failure = Object.assign(awsError('ConditionalCheckFailedException'), {
      Item: { pk: { S: 'a' }, version: { N: '9' }, _rsToken: { S: 'other' } },
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

  it("counts the SDK's own attempts, so its retries and racesafe's add up instead of multiplying", async () => {
    const events: OutcomeEvent[] = [];
    const spent = () => {
      // The SDK gave up after 3 attempts of its own.
      throw Object.assign(awsError('ThrottlingException'), { $metadata: { attempts: 3 } });
    };
    const { client, calls } = scriptedClient([spent, spent, spent]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk', observe: (e) => events.push(e) });
    await expect(
      putIfNewer(table, { pk: 'a', version: 1 }, { retry: { maxAttempts: 7, baseMs: 1, capMs: 1 } }),
    ).rejects.toMatchObject({ code: 'write.outcomeUnknown', details: { attempts: 9 } });
    // Not service.failure: the SDK retried, and racesafe does not see why each of its earlier attempts failed (one may
    // have been a lost response after the commit), so it cannot say "not applied" (docs/exactness.md).
    // 3 + 3 = 6 < 7: one more send; 9 >= 7: stop. Never 7 sends of 3 attempts each.
    expect(calls).toHaveLength(3);
    expect(events.map((e) => e.status)).toEqual(['retried', 'retried', 'error']);
  });

  it('resends a write whose response was lost after the SDK gave up, and recognises its own landed attempt', async () => {
    const reset = () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 1 } });
    };
    const { client, calls } = scriptedClient([
      reset,
      () => {
        // The resend fails its condition: the stored item carries this call's own token.
        const token = (calls[0] as { Item: { _rsToken: string } }).Item._rsToken;
        throw Object.assign(awsError('ConditionalCheckFailedException'), {
          Item: { pk: { S: 'a' }, version: { N: '4' }, _rsToken: { S: token } },
        });
      },
    ]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    const outcome = await putIfNewer(table, { pk: 'a', version: 4 }, { retry: { baseMs: 1, capMs: 1 } });
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'a', version: 4 } });
    expect(calls).toHaveLength(2);
  });

  it('says that a put superseded before its resend may have landed', async () => {
    const reset = () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 1 } });
    };
    const newer = () => {
      throw Object.assign(awsError('ConditionalCheckFailedException'), {
        Item: { pk: { S: 'a' }, version: { N: '5' }, _rsToken: { S: 'someone-else' } },
      });
    };
    const { client } = scriptedClient([reset, newer]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    expect(await putIfNewer(table, { pk: 'a', version: 4 }, { retry: { baseMs: 1, capMs: 1 } })).toEqual({
      status: 'stale',
      current: { pk: 'a', version: 5 },
      mayHaveLanded: true,
    });
  });

  it('gives up on failures that may have landed with write.outcomeUnknown, never a guess', async () => {
    const timeout = () => {
      throw Object.assign(awsError('TimeoutError'), { $metadata: { attempts: 1 } });
    };
    const { client, calls } = scriptedClient([timeout, timeout, timeout]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    const error = (await putIfNewer(
      table,
      { pk: 'a', version: 1 },
      { retry: { maxAttempts: 3, baseMs: 1, capMs: 1 } },
    ).catch((e: unknown) => e)) as RacesafeError;
    expect(error).toBeInstanceOf(RacesafeError);
    expect(error.code).toBe('write.outcomeUnknown');
    expect(error.details).toMatchObject({ operation: 'putIfNewer', attempts: 3 });
    expect(calls).toHaveLength(3);
  });

  it('rejects unknown retry options before sending', async () => {
    const { client, calls } = scriptedClient([]);
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    await expect(putIfNewer(table, { pk: 'a', version: 1 }, { retry: { attempts: 3 } as never })).rejects.toMatchObject(
      { code: 'validation.invalidOption' },
    );
    await expect(putIfNewer(table, { pk: 'a', version: 1 }, { retry: { maxTotalMs: 700_000 } })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'retry.maxTotalMs' },
    });
    expect(calls).toHaveLength(0);
  });
});
