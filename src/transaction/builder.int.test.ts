import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults } from '../testing/faults.js';
import { transaction } from './builder.js';

const engine = useEngine();
const it = itWhen(['transactions']);

async function balances(tableName: string) {
  const read = async (pk: string) =>
    (await engine.client.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }))).Item
      ?.balance;
  return { alice: await read('alice'), bob: await read('bob') };
}

describe('transaction', () => {
  it('commits guarded actions on several items atomically', async () => {
    const { table, name } = await freshTable(engine);
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'alice', balance: 100 } }));
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'bob', balance: 0 } }));
    const result = await transaction()
      .update(table, { pk: 'alice' }, { changes: { balance: decrement(30) }, require: { balance: { gte: 30 } } })
      .update(table, { pk: 'bob' }, { changes: { balance: increment(30) }, require: { pk: { exists: true } } })
      .put(table, { pk: 'transfer#1', amount: 30 }, { require: { pk: { exists: false } } })
      .commit();
    expect(result).toMatchObject({ status: 'applied', attempts: 1 });
    expect(await balances(name)).toEqual({ alice: 70, bob: 30 });
  });

  it('decodes a cancellation: per action its index, key, reason code and the stored item', async () => {
    const { table, name } = await freshTable(engine);
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'alice', balance: 10 } }));
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'bob', balance: 0 } }));
    const error = await transaction()
      .update(table, { pk: 'bob' }, { changes: { balance: increment(30) } })
      .update(table, { pk: 'alice' }, { changes: { balance: decrement(30) }, require: { balance: { gte: 30 } } })
      .commit()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RacesafeError);
    const cancelled = error as RacesafeError;
    expect(cancelled.code).toBe('transaction.cancelled');
    expect(cancelled.is('transaction.cancelled') && cancelled.details.reasons).toEqual([
      { index: 0, table: name, key: { pk: 'bob' }, code: 'None', message: undefined, item: undefined },
      {
        index: 1,
        table: name,
        key: { pk: 'alice' },
        code: 'ConditionalCheckFailed',
        message: expect.any(String),
        item: { pk: 'alice', balance: 10 },
      },
    ]);
    expect(await balances(name)).toEqual({ alice: 10, bob: 0 });
  });

  it('applies once for one ClientRequestToken, however often it is committed', async () => {
    const { table, name } = await freshTable(engine);
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'alice', balance: 0 } }));
    const build = () => transaction().update(table, { pk: 'alice' }, { changes: { balance: increment(5) } });
    await build().commit({ token: 'deposit-0001' });
    await build().commit({ token: 'deposit-0001' });
    expect((await balances(name)).alice).toBe(5);
    await build().commit({ token: 'deposit-0002' });
    expect((await balances(name)).alice).toBe(10);
  });

  it('checks an item it does not write', async () => {
    const { table, name } = await freshTable(engine);
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'flag', open: false } }));
    const error = await transaction()
      .check(table, { pk: 'flag' }, { open: { eq: true } })
      .put(table, { pk: 'order' })
      .commit()
      .catch((caught: unknown) => caught as RacesafeError);
    expect(error).toMatchObject({ code: 'transaction.cancelled' });
    const order = await engine.client.send(new GetCommand({ TableName: name, Key: { pk: 'order' } }));
    expect(order.Item).toBeUndefined();
  });

  it('retries TransactionConflict and throttling with backoff under one token, and reports each retry', async () => {
    const { name } = await freshTable(engine, { stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'alice', balance: 0 } }));
    const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint, maxAttempts: 1 });
    const client = DynamoDBDocumentClient.from(dynamodb);
    try {
      // DynamoDB Local never reports TransactionConflict, so the fault middleware does, twice, then throttles once.
      const faults = createFaults({
        seed: 1,
        transactionConflict: { limit: 2 },
        throttling: { commands: ['TransactWriteItems'], limit: 1 },
      });
      faults.attach(client);
      const events: OutcomeEvent[] = [];
      const table = defineTable({ client, name, partitionKey: 'pk', observe: (event) => events.push(event) });
      const result = await transaction()
        .update(table, { pk: 'alice' }, { changes: { balance: increment(5) } })
        .commit({ backoff: { baseMs: 1, capMs: 5 } });
      expect(result.attempts).toBe(4);
      expect(events.map((event) => event.status)).toEqual(['retried', 'retried', 'retried', 'applied']);
      const reasons = events.filter((event) => event.status === 'retried').map((event) => event.reason);
      expect(reasons.filter((reason) => /TransactionConflict/.test(reason ?? ''))).toHaveLength(2);
      expect(reasons.filter((reason) => /ProvisionedThroughputExceeded/.test(reason ?? ''))).toHaveLength(1);
      expect(faults.stats.transactionConflict.injected + faults.stats.throttling.injected).toBe(3);
      expect((await balances(name)).alice).toBe(5);
    } finally {
      dynamodb.destroy();
    }
  });

  it('gives up after maxAttempts, reporting the conflict per action', async () => {
    const { name } = await freshTable(engine, { stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'alice', balance: 0 } }));
    const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
    const client = DynamoDBDocumentClient.from(dynamodb);
    try {
      createFaults({ seed: 1, transactionConflict: {} }).attach(client);
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const error = (await transaction()
        .update(table, { pk: 'alice' }, { changes: { balance: increment(5) } })
        .commit({ maxAttempts: 3, backoff: { baseMs: 1, capMs: 2 } })
        .catch((caught: unknown) => caught)) as RacesafeError;
      expect(error).toMatchObject({ code: 'transaction.cancelled', details: { attempts: 3 } });
      expect(error.is('transaction.cancelled') && error.details.reasons[0]?.code).toBe('TransactionConflict');
      expect((await balances(name)).alice).toBe(0);
    } finally {
      dynamodb.destroy();
    }
  });
});
