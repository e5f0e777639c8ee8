import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import type { OutcomeEvent } from '../observe/events.js';
import { orderedVersion } from '../table.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { putIfNewer } from './put-if-newer.js';
import { noChange, updateWithLock } from './update-with-lock.js';

const engine = useEngine();

describe('updateWithLock', () => {
  itWhen(['transactions'])('creates the item at version 1, then bumps the version on each update', async () => {
    const { table } = await freshTable(engine);
    const first = await updateWithLock(table, { pk: 'doc' }, (current) => ({
      pk: 'doc',
      edits: Number(current?.edits ?? 0) + 1,
    }));
    expect(first).toEqual({ status: 'applied', item: { pk: 'doc', edits: 1, version: 1 }, attempts: 1 });
    const second = await updateWithLock(table, { pk: 'doc' }, (current) => ({
      ...current,
      edits: Number(current?.edits) + 1,
    }));
    expect(second).toMatchObject({ status: 'applied', item: { edits: 2, version: 2 } });
  });

  itWhen(['transactions'])('skips the write when mutate returns noChange', async () => {
    const events: OutcomeEvent[] = [];
    const { table } = await freshTable(engine, { observe: (event) => events.push(event) });
    await updateWithLock(table, { pk: 'doc' }, () => ({ pk: 'doc', locked: true }));
    const outcome = await updateWithLock(table, { pk: 'doc' }, (current) =>
      current?.locked ? noChange : { pk: 'doc' },
    );
    expect(outcome).toEqual({ status: 'unchanged', current: { pk: 'doc', locked: true, version: 1 }, attempts: 1 });
    expect(events.map((e) => e.status)).toEqual(['applied', 'unchanged']);
  });

  itWhen(['transactions'])('retries on a concurrent change, computing again from the newer item', async () => {
    const events: OutcomeEvent[] = [];
    const { table } = await freshTable(engine, { observe: (event) => events.push(event) });
    await updateWithLock(table, { pk: 'doc' }, () => ({ pk: 'doc', edits: 0 }));
    let calls = 0;
    const outcome = await updateWithLock(table, { pk: 'doc' }, async (current) => {
      calls += 1;
      if (calls === 1) {
        // Another writer commits between our read and our write.
        await engine.client.send(new PutCommand({ TableName: table.name, Item: { pk: 'doc', edits: 10, version: 2 } }));
      }
      return { pk: 'doc', edits: Number(current?.edits) + 1 };
    });
    expect(calls).toBe(2);
    expect(outcome).toMatchObject({ status: 'applied', item: { edits: 11, version: 3 }, attempts: 2 });
    expect(events.map((e) => e.status)).toEqual(['applied', 'retried', 'applied']);
  });

  itWhen(['transactions'])(
    'gives up after maxAttempts with a conflict error carrying the attempts and the last item seen',
    async () => {
      const { table } = await freshTable(engine);
      await updateWithLock(table, { pk: 'doc' }, () => ({ pk: 'doc', n: 0 }));
      let version = 1;
      const error = await updateWithLock(
        table,
        { pk: 'doc' },
        async () => {
          version += 1;
          await engine.client.send(new PutCommand({ TableName: table.name, Item: { pk: 'doc', n: version, version } }));
          return { pk: 'doc', n: -1 };
        },
        { maxAttempts: 3, backoff: { baseMs: 1, capMs: 2 } },
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RacesafeError);
      const conflict = error as RacesafeError;
      expect(conflict.is('write.conflict') && conflict.details).toEqual({
        attempts: 3,
        lastSeen: { pk: 'doc', n: 4, version: 4 },
      });
    },
  );

  itWhen(['transactions'])('continues the version of a tombstone instead of restarting at 1', async () => {
    const { table } = await freshTable(engine);
    await deleteIfNotNewer(table, { pk: 'doc' }, 7);
    const outcome = await updateWithLock(table, { pk: 'doc' }, (current) => ({
      pk: 'doc',
      existed: current !== undefined,
    }));
    expect(outcome).toMatchObject({ status: 'applied', item: { existed: false, version: 8 } });
    const raw = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'doc' } }));
    expect(raw.Item?._rsDeleted).toBeUndefined();
  });

  itWhen(['transactions'])('refuses an item whose version is an ordered string, writing nothing', async () => {
    const { table } = await freshTable(engine);
    const version = orderedVersion('49590338271490256608559692538361571095921575989136588898');
    await putIfNewer(table, { pk: 'doc', version, n: 1 });
    let calls = 0;
    const attempt = updateWithLock(table, { pk: 'doc' }, () => {
      calls += 1;
      return { pk: 'doc', n: 2 };
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'write.incompatibleVersion',
      details: { field: 'version', stored: version },
    });
    expect(calls).toBe(0);
    const raw = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk: 'doc' } }));
    expect(raw.Item).toMatchObject({ version, n: 1 });
  });

  it('rejects a key change, a non-object result and bad options', async () => {
    const { table } = await freshTable(engine);
    await expect(updateWithLock(table, { pk: 'doc' }, () => ({ pk: 'other' }))).rejects.toMatchObject({
      code: 'validation.invalidInput',
      details: { field: 'mutate.pk' },
    });
    await expect(updateWithLock(table, { pk: 'doc' }, () => 5 as never)).rejects.toMatchObject({
      details: { field: 'mutate' },
    });
    await expect(updateWithLock(table, { pk: 'doc' }, () => noChange, { maxAttempts: 0 })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'updateWithLock.maxAttempts' },
    });
  });
});
