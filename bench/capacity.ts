/** @module Benchmark: capacity units per operation (ReturnConsumedCapacity TOTAL) of the write primitives vs raw requests. */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decrement } from '../src/expression/update.js';
import { defineTable, type Item, itemSize } from '../src/table.js';
import type { DynamoDBEngine } from '../src/testing/dynamodb-engine.js';
import { createTable, uniqueTableName } from '../src/testing/tables.js';
import { guardedUpdate } from '../src/write/guarded-update.js';
import { putIfNewer } from '../src/write/put-if-newer.js';
import { updateWithLock } from '../src/write/update-with-lock.js';

/** Capacity consumed per operation, averaged over `ops` operations on items of `itemBytes`. */
export interface CapacityRow {
  readonly primitive: string;
  readonly itemBytes: number;
  readonly racesafe: { readonly write: number; readonly read: number };
  readonly raw: { readonly write: number; readonly read: number };
}

/** Sums the capacity every request of a client reports: the engine answers ReturnConsumedCapacity: 'TOTAL'. */
function meter(engine: DynamoDBEngine) {
  const totals = { write: 0, read: 0 };
  engine.client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : [consumed]).reduce(
        (sum: number, entry: { CapacityUnits?: number } | undefined) => sum + (entry?.CapacityUnits ?? 0),
        0,
      );
      if (/^Get|^BatchGet|^TransactGet/.test(context.commandName ?? '')) totals.read += units;
      else totals.write += units;
      return result;
    },
    { step: 'initialize', name: 'racesafe.bench.capacityMeter' },
  );
  return {
    measure: async (ops: number, op: (i: number) => Promise<unknown>) => {
      totals.write = 0;
      totals.read = 0;
      for (let i = 0; i < ops; i++) await op(i);
      return { write: totals.write / ops, read: totals.read / ops };
    },
    detach: () => engine.client.middlewareStack.remove('racesafe.bench.capacityMeter'),
  };
}

/** A payload that brings an item of these other attributes to about `bytes` (DynamoDB's size rule). */
function padded(base: Item, bytes: number): Item {
  const pad = Math.max(0, bytes - itemSize(base) - 'payload'.length);
  return { ...base, payload: 'x'.repeat(pad) };
}

/**
 * Capacity units per operation of putIfNewer, guardedUpdate and updateWithLock against the raw request a hand-written
 * version sends, at about 200 B, 900 B and 3.9 KB. Sequential: capacity does not depend on concurrency.
 */
export async function benchCapacity(engine: DynamoDBEngine, ops = 30): Promise<CapacityRow[]> {
  const name = uniqueTableName('capacity');
  await createTable(engine.dynamodb, { name, partitionKey: 'pk' });
  const table = defineTable({ client: engine.client, name, partitionKey: 'pk' });
  const { measure, detach } = meter(engine);
  const rows: CapacityRow[] = [];
  try {
    for (const bytes of [200, 900, 3900]) {
      let version = 0;
      const put = (pk: string) => padded({ pk, version: ++version, n: 1 }, bytes);
      rows.push({
        primitive: 'putIfNewer',
        itemBytes: itemSize(put('p')),
        racesafe: await measure(ops, () => putIfNewer(table, put(`p${bytes}`))),
        raw: await measure(ops, () =>
          engine.client.send(
            new PutCommand({
              TableName: name,
              Item: put(`r${bytes}`),
              ConditionExpression: 'attribute_not_exists(pk) OR version < :v',
              ExpressionAttributeValues: { ':v': version },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        ),
      });

      const stock = (pk: string) => padded({ pk, quantity: 1_000_000 }, bytes);
      await engine.client.send(new PutCommand({ TableName: name, Item: stock(`g${bytes}`) }));
      await engine.client.send(new PutCommand({ TableName: name, Item: stock(`h${bytes}`) }));
      rows.push({
        primitive: 'guardedUpdate',
        itemBytes: itemSize(stock('g')),
        racesafe: await measure(ops, () =>
          guardedUpdate(
            table,
            { pk: `g${bytes}` },
            { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } },
          ),
        ),
        raw: await measure(ops, () =>
          engine.client.send(
            new UpdateCommand({
              TableName: name,
              Key: { pk: `h${bytes}` },
              UpdateExpression: 'SET quantity = quantity - :n',
              ConditionExpression: 'attribute_exists(pk) AND quantity >= :n',
              ExpressionAttributeValues: { ':n': 1 },
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        ),
      });

      const doc = (pk: string, n: number) => padded({ pk, n, version: 0 }, bytes);
      rows.push({
        primitive: 'updateWithLock',
        itemBytes: itemSize(doc('l', 1)),
        racesafe: await measure(ops, () =>
          updateWithLock(table, { pk: `l${bytes}` }, (current) => ({
            ...doc(`l${bytes}`, Number(current?.n ?? 0) + 1),
          })),
        ),
        raw: await measure(ops, async () => {
          const got = await engine.client.send(
            new GetCommand({ TableName: name, Key: { pk: `m${bytes}` }, ConsistentRead: true }),
          );
          const stored = got.Item;
          const storedVersion = Number(stored?.version ?? 0);
          await engine.client.send(
            new PutCommand({
              TableName: name,
              Item: { ...doc(`m${bytes}`, Number(stored?.n ?? 0) + 1), version: storedVersion + 1 },
              ConditionExpression: stored === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
              ...(stored === undefined ? {} : { ExpressionAttributeValues: { ':v': storedVersion } }),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
        }),
      });
    }
  } finally {
    detach();
  }
  return rows;
}

export function printCapacity(rows: readonly CapacityRow[]): void {
  console.log('\nCapacity units per operation (ReturnConsumedCapacity TOTAL; write units / read units)');
  console.log('| primitive | item | racesafe write | racesafe read | raw write | raw read |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) {
    console.log(
      `| ${row.primitive} | ${row.itemBytes} B | ${row.racesafe.write.toFixed(2)} | ${row.racesafe.read.toFixed(2)} | ${row.raw.write.toFixed(2)} | ${row.raw.read.toFixed(2)} |`,
    );
  }
}
