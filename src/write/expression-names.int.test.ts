/** @module Every attribute name and value goes through a placeholder: awkward names and hostile strings on a real engine. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itWhen, useEngine } from '../../test/engine.js';
import { decrement, increment, remove, setIfNotExists } from '../expression/update.js';
import { defineTable, type Item, isTokenAttribute, type Table } from '../table.js';
import { createTable, uniqueTableName } from '../testing/tables.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { guardedUpdate } from './guarded-update.js';
import { putIfNewer } from './put-if-newer.js';
import { updateIfNewer } from './update-if-newer.js';

const engine = useEngine();

/** A value that would widen a condition if it ever became expression text. */
const hostile = 'x) OR attribute_exists(name';

/**
 * A table whose every racesafe attribute has a name DynamoDB cannot take literally in an expression: reserved words
 * (`name`, `timestamp`), a dot (which DynamoDB reads as a path), `#` and `:` (which start placeholders) and a space.
 */
async function awkwardTable(): Promise<Table> {
  const name = uniqueTableName('names');
  await createTable(engine.dynamodb, { name, partitionKey: 'name', sortKey: 'sort.key' });
  return defineTable({
    client: engine.client,
    name,
    partitionKey: 'name',
    sortKey: 'sort.key',
    versionAttribute: 'timestamp',
    writeTokenAttribute: 'tok:#',
    tombstoneAttribute: 'deleted #.mark',
  });
}

const key = { name: 'n-1', 'sort.key': 's-1' };

/** The item as stored, read raw: a misplaced name would show up here as a missing or extra attribute. */
async function stored(table: Table, itemKey: Item = key): Promise<Item | undefined> {
  const { Item } = await engine.client.send(
    new GetCommand({ TableName: table.name, Key: itemKey, ConsistentRead: true }),
  );
  return Item;
}

/** The stored item without the write-token register (its values are random), to compare the rest exactly. */
function withoutTokens(table: Table, item: Item | undefined): Item | undefined {
  return item && Object.fromEntries(Object.entries(item).filter(([name]) => !isTokenAttribute(table, name)));
}

describe('attribute names and values are placeholders on a real engine', () => {
  it('putIfNewer stores and orders items whose keys, version and attributes have awkward names', async () => {
    const table = await awkwardTable();
    const item = {
      ...key,
      timestamp: 2,
      status: 'open',
      total: 3,
      'a.b': 1,
      '#x': '#n0',
      ':y': ':v0',
      'with space': hostile,
      ünïcode: 'ü',
    };
    expect(await putIfNewer(table, item)).toEqual({ status: 'applied', item });
    const raw = await stored(table);
    expect(withoutTokens(table, raw)).toEqual(item);
    expect(raw?.['tok:#']).toEqual(expect.any(String));
    expect(await putIfNewer(table, { ...item, timestamp: 1, status: 'old' })).toEqual({
      status: 'stale',
      current: item,
    });
    expect(await putIfNewer(table, { ...item, status: 'again' })).toMatchObject({ status: 'duplicate' });
    expect((await putIfNewer(table, { ...item, timestamp: 3, status: 'new' })).status).toBe('applied');
    expect(withoutTokens(table, await stored(table))).toEqual({ ...item, timestamp: 3, status: 'new' });
  });

  it('updateIfNewer writes dotted and odd names as literal top-level attributes, never as paths', async () => {
    const table = await awkwardTable();
    // A map `a` with a member `b`: if `a.b` were read as a path, the update would change this member instead.
    await engine.client.send(
      new PutCommand({ TableName: table.name, Item: { ...key, timestamp: 1, a: { b: 'nested' }, total: 5 } }),
    );
    const changes = {
      status: 'shipped',
      'a.b': 'top',
      '#x': hostile,
      ':y': ':v0',
      'with space': true,
      ünïcode: 'ü',
      total: increment(2),
      count: setIfNotExists('#n1'),
    };
    const expected = {
      ...key,
      timestamp: 2,
      a: { b: 'nested' },
      status: 'shipped',
      'a.b': 'top',
      '#x': hostile,
      ':y': ':v0',
      'with space': true,
      ünïcode: 'ü',
      total: 7,
      count: '#n1',
    };
    expect(await updateIfNewer(table, key, 2, changes)).toEqual({ status: 'applied', item: expected });
    const raw = await stored(table);
    expect(withoutTokens(table, raw)).toEqual(expected);
    expect(raw?.['tok:#']).toEqual(expect.any(String));

    expect(await updateIfNewer(table, key, 1, { status: 'late' })).toMatchObject({ status: 'stale' });
    expect(withoutTokens(table, await stored(table))).toEqual(expected);

    // A map value replaces the whole attribute: the public API has no path syntax to reach into a map.
    const { '#x': _x, 'with space': _space, ...rest } = expected;
    const removed = await updateIfNewer(table, key, 3, { '#x': remove(), 'with space': remove(), a: { c: 1 } });
    expect(removed).toEqual({ status: 'applied', item: { ...rest, timestamp: 3, a: { c: 1 } } });
    expect(withoutTokens(table, await stored(table))).toEqual({ ...rest, timestamp: 3, a: { c: 1 } });
  });

  itWhen(['transactions'])(
    'guardedUpdate guards and changes reserved and dotted names, and names the guard that failed',
    async () => {
      const table = await awkwardTable();
      // A top-level `a.b` and no map `a`: read as a path, `a.b` would not exist.
      const seed = { ...key, timestamp: 1, total: 2, status: 'open', 'a.b': 'x.y' };
      await engine.client.send(new PutCommand({ TableName: table.name, Item: seed }));
      const sell = {
        changes: { total: decrement(1), 'a.b': 'sold' },
        require: { total: { gte: 1 }, status: { eq: 'open' }, 'a.b': { exists: true }, name: { eq: 'n-1' } },
      };
      expect(await guardedUpdate(table, key, sell)).toEqual({
        status: 'applied',
        item: { ...seed, total: 1, 'a.b': 'sold' },
      });
      expect((await guardedUpdate(table, key, sell)).status).toBe('applied');
      expect(await guardedUpdate(table, key, sell)).toEqual({
        status: 'rejected',
        current: { ...seed, total: 0, 'a.b': 'sold' },
        reason: 'total >= 1',
        failed: ['total >= 1'],
      });

      // A hostile operand is compared as a value: were it expression text, the condition would hold (or not parse).
      const injected = await guardedUpdate(table, key, {
        changes: { total: increment(10) },
        require: { status: { eq: hostile } },
      });
      expect(injected).toMatchObject({ status: 'rejected', failed: [`status = ${JSON.stringify(hostile)}`] });
      const dotted = await guardedUpdate(table, key, {
        changes: { total: increment(10) },
        require: { 'a.b': { exists: false } },
      });
      expect(dotted).toMatchObject({ status: 'rejected', failed: ['a.b does not exist'] });
      expect(withoutTokens(table, await stored(table))).toEqual({ ...seed, total: 0, 'a.b': 'sold' });
    },
  );

  itWhen(['transactions'])(
    'deleteIfNotNewer leaves a tombstone under the awkward names, and a newer update clears it',
    async () => {
      const table = await awkwardTable();
      await putIfNewer(table, { ...key, timestamp: 5, status: 'open' });
      expect(await deleteIfNotNewer(table, key, 4)).toMatchObject({ status: 'stale', current: { timestamp: 5 } });
      expect(await deleteIfNotNewer(table, key, 5)).toEqual({
        status: 'applied',
        previous: { ...key, timestamp: 5, status: 'open' },
      });
      const tombstone = await stored(table);
      expect(withoutTokens(table, tombstone)).toEqual({ ...key, timestamp: 5, 'deleted #.mark': true });
      expect(tombstone?.['tok:#']).toEqual(expect.any(String));
      expect((await deleteIfNotNewer(table, key, 5)).status).toBe('duplicate');
      expect((await putIfNewer(table, { ...key, timestamp: 4 })).status).toBe('stale');
      expect((await guardedUpdate(table, key, { changes: { total: increment(1) } })).status).toBe('missing');

      expect((await updateIfNewer(table, key, 6, { status: 'back' })).status).toBe('applied');
      expect(withoutTokens(table, await stored(table))).toEqual({ ...key, timestamp: 6, status: 'back' });

      const other = { name: 'n-2', 'sort.key': 's-2' };
      await putIfNewer(table, { ...other, timestamp: 1 });
      expect((await deleteIfNotNewer(table, other, 1, { mode: 'delete' })).status).toBe('applied');
      expect(await stored(table, other)).toBeUndefined();
    },
  );
});
