import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
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
});
