import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { decrement, increment } from '../expression/update.js';
import type { OutcomeEvent } from '../observe/events.js';
import type { Item, Table } from '../table.js';
import type { TransactionBuilder } from '../transaction/builder.js';
import { applyOnce } from './apply-once.js';
import { sqsHandler } from './sources/sqs.js';
import { sqsRecord } from './stream.test-support.js';

const engine = useEngine();
const it = itWhen(['transactions', 'returnValuesOnConditionCheckFailure']);

async function read(table: Table, key: Item): Promise<Item | undefined> {
  return (await engine.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true }))).Item;
}

/** An inventory table with one item in stock, and a marker table. */
async function setup(stock: number) {
  const { table: inventory } = await freshTable(engine, { prefix: 'once_inventory', stream: false });
  const { table: markers } = await freshTable(engine, { prefix: 'once_markers', stream: false });
  await engine.client.send(new PutCommand({ TableName: inventory.name, Item: { pk: 'apple', stock } }));
  return { inventory, markers };
}

const takeTwo = (inventory: Table) => (tx: TransactionBuilder) =>
  tx.update(inventory, { pk: 'apple' }, { changes: { stock: decrement(2) }, require: { stock: { gte: 2 } } });

describe('applyOnce', () => {
  it('reports one event per call to the tables observers (no second transaction event)', async () => {
    const events: OutcomeEvent[] = [];
    const observe = (event: OutcomeEvent) => events.push(event);
    const { table: plainInventory } = await freshTable(engine, { prefix: 'once_inventory', stream: false });
    const { table: plainMarkers } = await freshTable(engine, { prefix: 'once_markers', stream: false });
    const inventory = { ...plainInventory, observers: [observe] };
    const markers = { ...plainMarkers, observers: [observe] };
    await engine.client.send(new PutCommand({ TableName: inventory.name, Item: { pk: 'apple', stock: 10 } }));
    await applyOnce(markers, 'order-9', takeTwo(inventory));
    await applyOnce(markers, 'order-9', takeTwo(inventory));
    expect(events.map((event) => [event.op, event.status])).toEqual([
      ['applyOnce', 'applied'],
      ['applyOnce', 'duplicate'],
    ]);
  });

  it('applies the effect and leaves a marker with a TTL; the same event again is a duplicate and changes nothing', async () => {
    const { inventory, markers } = await setup(10);
    const now = Date.UTC(2030, 0, 1);
    const first = await applyOnce(markers, 'order-1', takeTwo(inventory), { now: () => now, ttlSeconds: 3600 });
    expect(first).toMatchObject({ status: 'applied', eventId: 'order-1', attempts: 1 });
    // The marker is the transaction's put: it carries the change token every racesafe write stores (hidden by racesafe).
    expect(await read(markers, { pk: 'event#order-1' })).toEqual({
      _rsToken0: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      pk: 'event#order-1',
      eventId: 'order-1',
      appliedAt: '2030-01-01T00:00:00.000Z',
      expiresAt: now / 1000 + 3600,
    });
    const again = await applyOnce(markers, 'order-1', takeTwo(inventory));
    expect(again).toMatchObject({ status: 'duplicate', eventId: 'order-1', marker: { pk: 'event#order-1' } });
    expect((await read(inventory, { pk: 'apple' }))?.stock).toBe(8);
  });

  it('applies the effect exactly once under concurrent duplicate delivery', async () => {
    const { inventory, markers } = await setup(100);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => applyOnce(markers, 'order-7', takeTwo(inventory), { maxAttempts: 20 })),
    );
    const statuses = outcomes.map((outcome) => outcome.status).sort();
    expect(statuses).toEqual(['applied', ...Array(11).fill('duplicate')]);
    expect((await read(inventory, { pk: 'apple' }))?.stock).toBe(98);
  });

  it('reports a failed guard of the effect as rejected and leaves no marker, so a later delivery can apply', async () => {
    const { inventory, markers } = await setup(1);
    const rejected = await applyOnce(markers, 'order-9', takeTwo(inventory));
    expect(rejected).toMatchObject({ status: 'rejected', eventId: 'order-9' });
    expect(rejected.status === 'rejected' && rejected.reasons.map((reason) => reason.code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect(await read(markers, { pk: 'event#order-9' })).toBeUndefined();
    await engine.client.send(new PutCommand({ TableName: inventory.name, Item: { pk: 'apple', stock: 5 } }));
    expect((await applyOnce(markers, 'order-9', takeTwo(inventory))).status).toBe('applied');
    expect((await read(inventory, { pk: 'apple' }))?.stock).toBe(3);
  });

  it('works with a marker table that has a sort key, and a custom prefix and TTL attribute', async () => {
    const { table: inventory } = await freshTable(engine, { prefix: 'once_counter', stream: false });
    const { table: markers } = await freshTable(engine, { prefix: 'once_sk', sortKey: 'sk', stream: false });
    const options = { markerPrefix: 'dedup#', markerSortKey: 'seen', ttlAttribute: 'ttl' };
    const bump = (tx: TransactionBuilder) =>
      tx.update(inventory, { pk: 'visits' }, { changes: { count: increment(1) } });
    expect((await applyOnce(markers, 'e-1', bump, options)).status).toBe('applied');
    expect((await applyOnce(markers, 'e-1', bump, options)).status).toBe('duplicate');
    const marker = await read(markers, { pk: 'dedup#e-1', sk: 'seen' });
    expect(typeof marker?.ttl).toBe('number');
    expect((await read(inventory, { pk: 'visits' }))?.count).toBe(1);
  });

  it('refuses an empty effect, an empty event id and unknown options before sending', async () => {
    const { markers } = await setup(1);
    await expect(applyOnce(markers, 'e', () => undefined)).rejects.toThrow(/at least one effect action/);
    await expect(applyOnce(markers, '', () => undefined)).rejects.toThrow(/eventId/);
    await expect(applyOnce(markers, 'e', () => undefined, { ttl: 1 } as never)).rejects.toThrow(/unknown option/);
  });

  it('in an SQS consumer: a message delivered twice at once and once more later changes stock once', async () => {
    const { inventory, markers } = await setup(10);
    const events: OutcomeEvent[] = [];
    const handler = sqsHandler({
      parse: (body) => body as { orderId: string; quantity: number },
      observe: (event) => events.push(event),
      handle: (order, record) =>
        applyOnce(
          markers,
          order.orderId,
          (tx) => tx.update(inventory, { pk: 'apple' }, { changes: { stock: decrement(order.quantity) } }),
          { ...record.callOptions, maxAttempts: 20 },
        ),
    });
    // SQS standard is at-least-once: the same order can arrive as two messages, in two concurrent invocations.
    const event = (messageId: string) => ({ Records: [sqsRecord(messageId, { orderId: 'o-1', quantity: 3 })] });
    const responses = await Promise.all([handler(event('m1')), handler(event('m2'))]);
    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(await handler(event('m1'))).toEqual({ batchItemFailures: [] });
    expect((await read(inventory, { pk: 'apple' }))?.stock).toBe(7);
    expect(events.map((e) => e.status).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
  });
});
