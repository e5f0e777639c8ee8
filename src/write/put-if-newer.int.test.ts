import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import type { OutcomeEvent } from '../observe/events.js';
import { putIfNewer } from './put-if-newer.js';

const engine = useEngine();

describe('putIfNewer', () => {
  it('applies a first write and a newer one, and skips an older one as stale', async () => {
    const { table } = await freshTable(engine);
    expect(await putIfNewer(table, { pk: 'a', version: 41, temp: 1 })).toEqual({
      status: 'applied',
      item: { pk: 'a', version: 41, temp: 1 },
    });
    expect((await putIfNewer(table, { pk: 'a', version: 42, temp: 2 })).status).toBe('applied');
    const stale = await putIfNewer(table, { pk: 'a', version: 41, temp: 1 });
    expect(stale).toEqual({ status: 'stale', current: { pk: 'a', version: 42, temp: 2 } });
    const stored = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'a' } }));
    expect(stored.Item).toMatchObject({ version: 42, temp: 2 });
  });

  it('reports the same version again as a duplicate, with the stored item', async () => {
    const { table } = await freshTable(engine);
    await putIfNewer(table, { pk: 'a', version: 7, note: 'first' });
    expect(await putIfNewer(table, { pk: 'a', version: 7, note: 'again' })).toEqual({
      status: 'duplicate',
      current: { pk: 'a', version: 7, note: 'first' },
    });
  });

  it('orders zero-padded string versions (Kinesis sequence numbers exceed 38 digits)', async () => {
    const { table } = await freshTable(engine);
    const older = '49590338271490256608559692538361571095921575989136588898'.padStart(64, '0');
    const newer = '49590338271490256608559692540925702759324208523137515618'.padStart(64, '0');
    expect((await putIfNewer(table, { pk: 'k', version: newer })).status).toBe('applied');
    expect((await putIfNewer(table, { pk: 'k', version: older })).status).toBe('stale');
  });

  it('rejects a version of another type than the stored one, naming why', async () => {
    const { table } = await freshTable(engine);
    await putIfNewer(table, { pk: 'a', version: 5 });
    const outcome = await putIfNewer(table, { pk: 'a', version: '6' });
    expect(outcome.status).toBe('rejected');
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(/cannot be ordered/);
  });

  it('works with reserved words, dotted names and odd characters as attribute names', async () => {
    const { table } = await freshTable(engine);
    const item = { pk: 'a', version: 1, status: 'ok', name: 'n', total: 3, 'a.b': 1, 'x-y #z :w': 'odd' };
    expect((await putIfNewer(table, item)).status).toBe('applied');
    expect((await putIfNewer(table, { ...item, version: 2 })).status).toBe('applied');
  });

  it('reports each outcome to the table observer and the per-call observer', async () => {
    const events: OutcomeEvent[] = [];
    const perCall: OutcomeEvent[] = [];
    const { table } = await freshTable(engine, { observe: (event) => events.push(event) });
    await putIfNewer(table, { pk: 'a', version: 2 }, { context: { eventId: 'e-1' } });
    await putIfNewer(table, { pk: 'a', version: 1 }, { observe: (event) => perCall.push(event) });
    expect(events.map((e) => e.status)).toEqual(['applied', 'stale']);
    expect(events[0]).toMatchObject({ op: 'putIfNewer', table: table.name, key: { pk: 'a' }, attempts: 1 });
    expect(events[0]?.context).toEqual({ eventId: 'e-1' });
    expect(events[1]?.reason).toMatch(/version 2 is newer than 1/);
    expect(perCall.map((e) => e.status)).toEqual(['stale']);
  });

  it('rejects bad input with a typed error naming the field and the rule, before sending anything', async () => {
    const { table } = await freshTable(engine);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ version: 1 }, 'item.pk'],
      [{ pk: '', version: 1 }, 'item.pk'],
      [{ pk: 'a' }, 'item.version'],
      [{ pk: 'a', version: Number.NaN }, 'item.version'],
      [{ pk: 'a', version: 0 }, 'item.version'],
      [{ pk: 'a', version: -3 }, 'item.version'],
      [{ pk: 'a', version: 1.5 }, 'item.version'],
      [{ pk: 'a', version: 2 ** 53 }, 'item.version'],
      [{ pk: 'a', version: '' }, 'item.version'],
      [{ pk: 'a', version: 1, temp: Number.NaN }, 'item.temp'],
      [{ pk: 'a', version: 1, blob: 'x'.repeat(400 * 1024) }, 'item'],
    ];
    for (const [item, field] of cases) {
      await expect(putIfNewer(table, item), JSON.stringify(item).slice(0, 60)).rejects.toMatchObject({
        code: 'validation.invalidInput',
        details: { field },
      });
    }
    await expect(putIfNewer(table, { pk: 'a', version: 1 }, { retries: 3 } as never)).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'putIfNewer.retries' },
    });
    const stored = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'a' } }));
    expect(stored.Item).toBeUndefined();
  });

  it('accepts an item near the limit whose size is mostly small numbers, as the engine does', async () => {
    const { table } = await freshTable(engine);
    // About 3 bytes each as stored; counted at a flat 21 bytes they would come to 1 MB and be refused.
    const readings = Array.from({ length: 50_000 }, (_, i) => i % 100);
    expect(await putIfNewer(table, { pk: 'series', version: 1, readings })).toMatchObject({ status: 'applied' });
    const stored = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'series' } }));
    expect(stored.Item?.readings).toEqual(readings);
  });
});
