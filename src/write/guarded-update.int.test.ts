import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { decrement, increment } from '../expression/update.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { guardedUpdate } from './guarded-update.js';

const engine = useEngine();

describe('guardedUpdate', () => {
  itWhen(['transactions'])('applies while the guard holds and returns the new item', async () => {
    const { table } = await freshTable(engine);
    await engine.client.send(new PutCommand({ TableName: table.name, Item: { pk: 'sku', quantity: 3 } }));
    const outcome = await guardedUpdate(
      table,
      { pk: 'sku' },
      {
        changes: { quantity: decrement(2), sold: increment(2) },
        require: { quantity: { gte: 2 } },
      },
    );
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'sku', quantity: 1, sold: 2 } });
  });

  itWhen(['transactions'])(
    'is rejected, naming the failed guard and returning the current item, when the guard fails',
    async () => {
      const { table } = await freshTable(engine);
      await engine.client.send(
        new PutCommand({ TableName: table.name, Item: { pk: 'sku', quantity: 1, status: 'open' } }),
      );
      const outcome = await guardedUpdate(
        table,
        { pk: 'sku' },
        {
          changes: { quantity: decrement(2) },
          require: { quantity: { gte: 2 }, status: { eq: 'open' } },
        },
      );
      expect(outcome).toEqual({
        status: 'rejected',
        current: { pk: 'sku', quantity: 1, status: 'open' },
        reason: 'quantity >= 2',
        failed: ['quantity >= 2'],
      });
    },
  );

  itWhen(['transactions'])('reports a missing (or deleted) item as its own outcome', async () => {
    const { table } = await freshTable(engine);
    expect(await guardedUpdate(table, { pk: 'none' }, { changes: { quantity: decrement(1) } })).toEqual({
      status: 'missing',
    });
    await engine.client.send(new PutCommand({ TableName: table.name, Item: { pk: 'gone', quantity: 5, version: 1 } }));
    await deleteIfNotNewer(table, { pk: 'gone' }, 2);
    expect((await guardedUpdate(table, { pk: 'gone' }, { changes: { quantity: decrement(1) } })).status).toBe(
      'missing',
    );
  });

  it('rejects unknown guard rules and bad input before sending', async () => {
    const { table } = await freshTable(engine);
    await expect(
      guardedUpdate(table, { pk: 'sku' }, { changes: { q: decrement(1) }, require: { q: { atLeast: 1 } as never } }),
    ).rejects.toMatchObject({ code: 'validation.invalidInput', details: { field: 'require.q.atLeast' } });
    await expect(guardedUpdate(table, { pk: 'sku' }, { changes: {} })).rejects.toMatchObject({
      details: { field: 'changes' },
    });
    await expect(
      guardedUpdate(table, { pk: 'sku' }, { changes: { q: decrement(1) }, require: { q: { gte: Number.NaN } } }),
    ).rejects.toMatchObject({ details: { field: 'require.q.gte' } });
  });
});
