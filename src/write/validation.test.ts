import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { append, decrement, increment, setIfNotExists } from '../expression/update.js';
import { defineTable, maxItemBytes } from '../table.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { guardedUpdate } from './guarded-update.js';
import { putIfNewer } from './put-if-newer.js';
import { updateIfNewer } from './update-if-newer.js';
import { updateWithLock } from './update-with-lock.js';

/** A client that records the commands it is asked to send: bad input must be refused before any of them. */
function recordingClient() {
  const sent: string[] = [];
  const client = {
    send: async (command: object) => {
      sent.push(command.constructor.name);
      return { Item: { pk: 'a', version: 1, n: 1 } };
    },
  } as unknown as DynamoDBDocumentClient;
  return { sent, table: defineTable({ client, name: 'state', partitionKey: 'pk' }) };
}

const overLimit = 'x'.repeat(maxItemBytes + 1);

describe('bad input is refused with a typed error naming the field, before any request', () => {
  const cases: Array<[string, (table: ReturnType<typeof recordingClient>['table']) => Promise<unknown>, string]> = [
    ['putIfNewer: missing key', (t) => putIfNewer(t, { version: 1 }), 'item.pk'],
    ['putIfNewer: version 0', (t) => putIfNewer(t, { pk: 'a', version: 0 }), 'item.version'],
    ['putIfNewer: nested NaN', (t) => putIfNewer(t, { pk: 'a', version: 1, m: { l: [1, Number.NaN] } }), 'item.m.l[1]'],
    ['putIfNewer: over 400 KB', (t) => putIfNewer(t, { pk: 'a', version: 1, big: overLimit }), 'item'],
    ['updateIfNewer: empty update', (t) => updateIfNewer(t, { pk: 'a' }, 1, {}), 'changes'],
    ['updateIfNewer: nested NaN', (t) => updateIfNewer(t, { pk: 'a' }, 1, { m: { x: Number.NaN } }), 'changes.m.x'],
    ['updateIfNewer: NaN in a list', (t) => updateIfNewer(t, { pk: 'a' }, 1, { l: [Number.NaN] }), 'changes.l[0]'],
    ['updateIfNewer: over 400 KB', (t) => updateIfNewer(t, { pk: 'a' }, 1, { big: overLimit }), 'changes'],
    [
      'updateIfNewer: over 400 KB in all',
      (t) => updateIfNewer(t, { pk: 'a' }, 1, { a: overLimit.slice(200_000), b: overLimit.slice(200_000) }),
      'changes',
    ],
    [
      'updateIfNewer: the key and changes over 400 KB together',
      (t) => updateIfNewer(t, { pk: 'k'.repeat(1024) }, 1, { big: overLimit.slice(1000) }),
      'changes',
    ],
    [
      'updateIfNewer: NaN in a set',
      (t) => updateIfNewer(t, { pk: 'a' }, 1, { s: new Set([1, Number.NaN]) }),
      'changes.s',
    ],
    ['putIfNewer: Infinity in a set', (t) => putIfNewer(t, { pk: 'a', version: 1, s: new Set([Infinity]) }), 'item.s'],
    ['updateIfNewer: ordered string too', (t) => updateIfNewer(t, { pk: 'a' }, '', { a: 1 }), 'version'],
    [
      'guardedUpdate: Infinity appended',
      (t) => guardedUpdate(t, { pk: 'a' }, { changes: { l: append([1, Number.POSITIVE_INFINITY]) } }),
      'changes.l[1]',
    ],
    [
      'guardedUpdate: NaN set if missing',
      (t) => guardedUpdate(t, { pk: 'a' }, { changes: { m: setIfNotExists({ y: Number.NaN }) } }),
      'changes.m.y',
    ],
    [
      'guardedUpdate: infinite increment',
      (t) => guardedUpdate(t, { pk: 'a' }, { changes: { n: increment(Number.NEGATIVE_INFINITY) } }),
      'changes.n',
    ],
    [
      'guardedUpdate: over 400 KB appended',
      (t) => guardedUpdate(t, { pk: 'a' }, { changes: { l: append([overLimit]) } }),
      'changes',
    ],
    [
      'guardedUpdate: missing key',
      (t) => guardedUpdate(t, { id: 'a' }, { changes: { n: decrement(1) }, require: { n: { gte: 1 } } }),
      'key.pk',
    ],
    ['deleteIfNotNewer: missing key', (t) => deleteIfNotNewer(t, {}, 1), 'key.pk'],
    ['deleteIfNotNewer: fractional version', (t) => deleteIfNotNewer(t, { pk: 'a' }, 1.5), 'version'],
    [
      'transaction update: nested NaN',
      async (t) => transaction().update(t, { pk: 'a' }, { changes: { m: { x: Number.NaN } } }),
      'actions[0].changes.m.x',
    ],
    [
      'transaction update: over 400 KB',
      async (t) => transaction().update(t, { pk: 'a' }, { changes: { big: overLimit } }),
      'actions[0].changes',
    ],
  ];

  it.each(cases)('%s', async (_, call, field) => {
    const { sent, table } = recordingClient();
    await expect(call(table)).rejects.toMatchObject({ code: 'validation.invalidInput', details: { field } });
    expect(sent).toEqual([]);
  });

  it('a value that setIfNotExists may not write does not count towards the size (the service decides)', async () => {
    const { sent, table } = recordingClient();
    await updateIfNewer(table, { pk: 'a' }, 2, { big: setIfNotExists(overLimit) });
    expect(sent).toEqual(['UpdateCommand']);
  });

  it('updateWithLock: refuses an item that turned out, after a conflict, to have a string version', async () => {
    const sent: string[] = [];
    const conflict = Object.assign(new Error('Transaction cancelled'), {
      name: 'TransactionCanceledException',
      // ALL_OLD, as the service sends it: another writer stored an ordered-string version meanwhile.
      CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { pk: { S: 'a' }, version: { S: '0042' } } }],
    });
    const client = {
      send: async (command: object) => {
        sent.push(command.constructor.name);
        if (command.constructor.name === 'TransactWriteCommand') throw conflict;
        return { Item: { pk: 'a', version: 1 } };
      },
    } as unknown as DynamoDBDocumentClient;
    const table = defineTable({ client, name: 'state', partitionKey: 'pk' });
    let calls = 0;
    const attempt = updateWithLock(table, { pk: 'a' }, (current) => {
      calls += 1;
      return { ...current, n: 1 };
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'write.incompatibleVersion',
      details: { field: 'version', stored: '0042' },
    });
    expect(calls).toBe(1);
    expect(sent).toEqual(['GetCommand', 'TransactWriteCommand']);
  });

  it('updateWithLock: reads, then refuses what mutate returned without writing it', async () => {
    const { sent, table } = recordingClient();
    await expect(
      updateWithLock(table, { pk: 'a' }, (current) => ({ ...current, n: Number.NaN })),
    ).rejects.toMatchObject({ code: 'validation.invalidInput', details: { field: 'mutate.n' } });
    await expect(
      updateWithLock(table, { pk: 'a' }, (current) => ({ ...current, big: overLimit })),
    ).rejects.toMatchObject({ code: 'validation.invalidInput', details: { field: 'mutate' } });
    expect(sent).toEqual(['GetCommand', 'GetCommand']);
  });
});
