/** @module What guardedUpdate retries on a real engine: throttling (never applied) yes, a failed guard never. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
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
/** Our backoff between resends, short so that the test does not wait. */
const retry = { baseMs: 1, capMs: 1 };

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
  itWhen(['transactions'])('sends a failed guard once, even when resends are allowed', async () => {
    const { table, requests, events, observe, quantity } = await stockTable({ quantity: 0 });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, {
      observe,
      retry: { ...retry, maxAttempts: 5 },
    });
    expect(outcome).toEqual({
      status: 'rejected',
      current: { pk: 'sku', quantity: 0 },
      reason: 'quantity >= 1',
      failed: ['quantity >= 1'],
    });
    // The cancellation reason carries the stored item (ALL_OLD): no read is needed to name the failed guard.
    const expected = ['TransactWriteItems'];
    expect(requests).toEqual(expected);
    expect(events).toEqual([
      expect.objectContaining({ op: 'guardedUpdate', status: 'rejected', attempts: expected.length }),
    ]);
    expect(await quantity()).toBe(0);
  });

  itWhen(['transactions'])('retries throttling itself when the SDK does not, and decrements once', async () => {
    const { table, requests, faults, events, observe, quantity } = await stockTable({
      quantity: 10,
      sdkMaxAttempts: 1,
      faults: { throttling: { commands: ['TransactWriteItems'], limit: 2 } },
    });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, { observe, retry });
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'sku', quantity: 9 } });
    expect(faults.stats.throttling.injected).toBe(2);
    // The commit, then the read of the item right after it.
    expect(requests).toEqual(['TransactWriteItems', 'GetItem']);
    expect(events.map((event) => [event.status, event.attempts, event.reason])).toEqual([
      ['retried', 1, 'ProvisionedThroughputExceededException'],
      ['retried', 2, 'ProvisionedThroughputExceededException'],
      ['applied', 4, undefined],
    ]);
    expect(await quantity()).toBe(9);
  });

  itWhen(['transactions'])(
    "retries throttling that outlived the SDK retries, counting the SDK's attempts",
    async () => {
      // The SDK's standard strategy gives up on throttling after its attempts (4 here, as its error's metadata says);
      // 4 throttled attempts outlast it.
      const { table, requests, faults, events, observe, quantity } = await stockTable({
        quantity: 10,
        faults: { throttling: { commands: ['TransactWriteItems'], limit: 4 } },
      });
      const outcome = await guardedUpdate(table, { pk: 'sku' }, sell, { observe, retry });
      expect(outcome).toEqual({ status: 'applied', item: { pk: 'sku', quantity: 9 } });
      expect(faults.stats.throttling.injected).toBe(4);
      // 4 throttled (the SDK gives up), racesafe resends once: applied; then the read.
      expect(faults.stats.attempts).toBe(6);
      expect(requests).toEqual(['TransactWriteItems', 'GetItem']);
      expect(events.map((event) => [event.status, event.attempts])).toEqual([
        ['retried', 4],
        ['applied', 6],
      ]);
      expect(await quantity()).toBe(9);
    },
  );
});
