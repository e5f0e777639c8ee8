import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { increment, remove } from '../expression/update.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { getCurrent } from './get-current.js';
import { updateIfNewer } from './update-if-newer.js';

const engine = useEngine();

describe('updateIfNewer', () => {
  it('creates, updates newer, keeps untouched attributes, and skips stale and duplicate versions', async () => {
    const { table } = await freshTable(engine);
    const created = await updateIfNewer(table, { pk: 'o' }, 1, { status: 'new', count: increment(1), note: 'x' });
    expect(created).toEqual({ status: 'applied', item: { pk: 'o', version: 1, status: 'new', count: 1, note: 'x' } });
    const updated = await updateIfNewer(table, { pk: 'o' }, 3, {
      status: 'shipped',
      count: increment(1),
      note: remove(),
    });
    expect(updated).toEqual({ status: 'applied', item: { pk: 'o', version: 3, status: 'shipped', count: 2 } });
    expect(await updateIfNewer(table, { pk: 'o' }, 2, { status: 'paid' })).toMatchObject({
      status: 'stale',
      current: { version: 3, status: 'shipped' },
    });
    expect(await updateIfNewer(table, { pk: 'o' }, 3, { status: 'shipped' })).toMatchObject({ status: 'duplicate' });
  });

  it('brings a deleted item back only with a newer version', async () => {
    const { table } = await freshTable(engine);
    await updateIfNewer(table, { pk: 'o' }, 1, { status: 'new' });
    await deleteIfNotNewer(table, { pk: 'o' }, 5);
    expect((await updateIfNewer(table, { pk: 'o' }, 4, { status: 'late' })).status).toBe('stale');
    expect(await getCurrent(table, { pk: 'o' })).toBeUndefined();
    expect((await updateIfNewer(table, { pk: 'o' }, 6, { status: 'again' })).status).toBe('applied');
    expect(await getCurrent(table, { pk: 'o' })).toEqual({ pk: 'o', version: 6, status: 'again' });
  });

  it('rejects empty updates and changes to keys, version or bookkeeping, naming the field', async () => {
    const { table } = await freshTable(engine);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'changes'],
      [{ pk: 'b' }, 'changes.pk'],
      [{ version: 9 }, 'changes.version'],
      [{ _rsToken0: 'x' }, 'changes._rsToken0'],
      [{ a: undefined }, 'changes.a'],
      [{ a: Number.POSITIVE_INFINITY }, 'changes.a'],
    ];
    for (const [changes, field] of cases) {
      await expect(updateIfNewer(table, { pk: 'o' }, 1, changes)).rejects.toMatchObject({
        code: 'validation.invalidInput',
        details: { field },
      });
    }
    await expect(updateIfNewer(table, { pk: 'o' }, 0, { a: 1 })).rejects.toMatchObject({
      details: { field: 'version' },
    });
    await expect(updateIfNewer(table, {}, 1, { a: 1 })).rejects.toMatchObject({ details: { field: 'key.pk' } });
  });
});
