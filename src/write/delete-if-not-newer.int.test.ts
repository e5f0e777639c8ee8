import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { getCurrent } from './get-current.js';
import { putIfNewer } from './put-if-newer.js';

const engine = useEngine();

describe('deleteIfNotNewer', () => {
  it('leaves a tombstone so a late, older put cannot resurrect the item', async () => {
    const { table } = await freshTable(engine);
    await putIfNewer(table, { pk: 'a', version: 4, v: 'four' });
    expect(await deleteIfNotNewer(table, { pk: 'a' }, 5)).toEqual({
      status: 'applied',
      previous: { pk: 'a', version: 4, v: 'four' },
    });
    expect(await getCurrent(table, { pk: 'a' })).toBeUndefined();
    expect((await putIfNewer(table, { pk: 'a', version: 3, v: 'three' })).status).toBe('stale');
    expect((await putIfNewer(table, { pk: 'a', version: 5, v: 'five' })).status).toBe('stale');
    expect(await getCurrent(table, { pk: 'a' })).toBeUndefined();
    expect((await putIfNewer(table, { pk: 'a', version: 6, v: 'six' })).status).toBe('applied');
    expect(await getCurrent(table, { pk: 'a' })).toEqual({ pk: 'a', version: 6, v: 'six' });
  });

  it('skips a delete older than the stored item, and reports a repeated delete as duplicate', async () => {
    const { table } = await freshTable(engine);
    await putIfNewer(table, { pk: 'a', version: 10 });
    expect(await deleteIfNotNewer(table, { pk: 'a' }, 9)).toMatchObject({ status: 'stale', current: { version: 10 } });
    expect((await deleteIfNotNewer(table, { pk: 'a' }, 10)).status).toBe('applied');
    expect((await deleteIfNotNewer(table, { pk: 'a' }, 10)).status).toBe('duplicate');
    expect((await deleteIfNotNewer(table, { pk: 'a' }, 9)).status).toBe('stale');
  });

  it('writes a tombstone for a delete that arrives before the create', async () => {
    const { table } = await freshTable(engine);
    expect(await deleteIfNotNewer(table, { pk: 'a' }, 2)).toEqual({ status: 'applied', previous: undefined });
    expect((await putIfNewer(table, { pk: 'a', version: 1 })).status).toBe('stale');
  });

  it('stamps the TTL attribute on tombstones when asked', async () => {
    const { table } = await freshTable(engine);
    const before = Math.floor(Date.now() / 1000);
    await deleteIfNotNewer(table, { pk: 'a' }, 1, { tombstoneTtl: { attribute: 'expiresAt', seconds: 3600 } });
    const raw = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'a' } }));
    expect(raw.Item?.expiresAt).toBeGreaterThanOrEqual(before + 3600);
    expect(raw.Item?._rsDeleted).toBe(true);
  });

  it("mode 'delete' removes the item, at the cost of letting an older put recreate it", async () => {
    const { table } = await freshTable(engine);
    await putIfNewer(table, { pk: 'a', version: 4 });
    expect((await deleteIfNotNewer(table, { pk: 'a' }, 3, { mode: 'delete' })).status).toBe('stale');
    expect(await deleteIfNotNewer(table, { pk: 'a' }, 5, { mode: 'delete' })).toEqual({
      status: 'applied',
      previous: { pk: 'a', version: 4 },
    });
    const raw = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'a' } }));
    expect(raw.Item).toBeUndefined();
    expect((await putIfNewer(table, { pk: 'a', version: 3 })).status).toBe('applied');
  });

  it('rejects bad options and versions with typed errors', async () => {
    const { table } = await freshTable(engine);
    await expect(deleteIfNotNewer(table, { pk: 'a' }, 1, { mode: 'soft' as never })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'deleteIfNotNewer.mode' },
    });
    await expect(deleteIfNotNewer(table, { pk: 'a' }, -1)).rejects.toMatchObject({ details: { field: 'version' } });
  });
});
