/** @module What guardedUpdate retries on a real engine: throttling (never applied) yes, a failed guard never. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { decrement } from '../expression/update.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults, type FaultOptions } from '../testing/faults.js';
import { operationName } from '../testing/faults-stack.js';
import { guardedUpdate } from './guarded-update.js';

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

const sell = { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } };
/** Our backoff between throttled attempts, short so that the test does not wait. */
const throttle = { baseMs: 1, capMs: 1 };

/**
 * A stock item and a table handle over a client of its own, with `faults` attached and a record of every request that
 * reaches the engine (the deserialize step sits below the fault middleware, so a throttled attempt never gets there).
 */
async function stockTable(options: { quantity: number; sdkMaxAttempts?: number; faults?: FaultOptions }) {
  const { name } = await freshTable(engine, { stream: false });
  await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: options.quantity } }));
  const dynamodb = new DynamoDBClient({
    ...localClientConfig,
    endpoint: engine.endpoint,
    ...(options.sdkMaxAttempts === undefined ? {} : { maxAttempts: options.sdkMaxAttempts }),
  });
  clients.push(dynamodb);
  const client = DynamoDBDocumentClient.from(dynamodb);
  const requests: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(operationName(context.commandName));
      return next(args);
    },
    { step: 'deserialize', name: 'recordRequestsReachingTheEngine' },
  );
  const faults = createFaults({ seed: 1, ...options.faults });
  faults.attach(client);
  const events: OutcomeEvent[] = [];
  const table = defineTable({ client, name, partitionKey: 'pk' });
  const quantity = async () =>
    (await engine.client.send(new GetCommand({ TableName: name, Key: { pk: 'sku' }, ConsistentRead: true }))).Item
      ?.quantity;
  return { table, requests, faults, events, observe: (event: OutcomeEvent) => events.push(event), quantity };
}

describe('guardedUpdate retries', () => {
  it('sends a failed guard once, even when throttling retries are allowed', async () => {
    const { table, requests, events, observe, quantity } = await stockTable({ quantity: 0 });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, {
      observe,
      throttle: { ...throttle, maxAttempts: 5 },
    });
    expect(outcome).toEqual({
      status: 'rejected',
      current: { pk: 'sku', quantity: 0 },
      reason: 'quantity >= 1',
      failed: ['quantity >= 1'],
    });
    // Without ALL_OLD (dynalite) the stored item is read once to name the failed guard; the update is still sent once.
    const expected = engine.capabilities.returnValuesOnConditionCheckFailure
      ? ['UpdateItem']
      : ['UpdateItem', 'GetItem'];
    expect(requests).toEqual(expected);
    expect(events).toEqual([
      expect.objectContaining({ op: 'guardedUpdate', status: 'rejected', attempts: expected.length }),
    ]);
    expect(await quantity()).toBe(0);
  });

  it('retries throttling itself when the SDK does not, and decrements once', async () => {
    const { table, requests, faults, events, observe, quantity } = await stockTable({
      quantity: 10,
      sdkMaxAttempts: 1,
      faults: { throttling: { commands: ['UpdateItem'], limit: 2 } },
    });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, { observe, throttle });
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'sku', quantity: 9 } });
    expect(faults.stats.throttling.injected).toBe(2);
    expect(requests).toEqual(['UpdateItem']);
    expect(events.map((event) => [event.status, event.attempts, event.reason])).toEqual([
      ['retried', 1, 'ProvisionedThroughputExceededException'],
      ['retried', 2, 'ProvisionedThroughputExceededException'],
      ['applied', 3, undefined],
    ]);
    expect(await quantity()).toBe(9);
  });

  it('retries throttling that outlived the SDK retries, and decrements once', async () => {
    // The SDK's default standard strategy makes 3 attempts; 4 throttled attempts outlast them by one.
    const { table, requests, faults, events, observe, quantity } = await stockTable({
      quantity: 10,
      faults: { throttling: { commands: ['UpdateItem'], limit: 4 } },
    });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, { observe, throttle });
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'sku', quantity: 9 } });
    expect(faults.stats.throttling.injected).toBe(4);
    expect(faults.stats.attempts).toBe(5);
    expect(requests).toEqual(['UpdateItem']);
    expect(events.map((event) => [event.status, event.attempts])).toEqual([
      ['retried', 1],
      ['applied', 2],
    ]);
    expect(await quantity()).toBe(9);
  });
});
