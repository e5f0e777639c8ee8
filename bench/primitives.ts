/** @module Benchmark: putIfNewer, guardedUpdate and updateWithLock against raw DocumentClient commands with the same condition. */
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { guardParts } from '../src/expression/guard.js';
import { decrement } from '../src/expression/update.js';
import { newWriteToken } from '../src/request/write-token.js';
import { defineTable } from '../src/table.js';
import type { DynamoDBEngine } from '../src/testing/dynamodb-engine.js';
import { createTable, uniqueTableName } from '../src/testing/tables.js';
import { buildGuardedUpdate, guardedUpdate } from '../src/write/guarded-update.js';
import { buildPutIfNewer, putIfNewer } from '../src/write/put-if-newer.js';
import { updateWithLock } from '../src/write/update-with-lock.js';
import { type Comparison, closedLoop, compare, type Round } from './harness.js';

export interface PrimitivesBenchOptions {
  /** Requests in flight. @default 16 */
  readonly concurrency?: number;
  /** Operations per round. @default 1000 */
  readonly ops?: number;
  /** Paired rounds of each comparison with a target; the information rows run half as many. @default 80 */
  readonly rounds?: number;
}

export async function benchPrimitives(
  engine: DynamoDBEngine,
  options: PrimitivesBenchOptions = {},
): Promise<Comparison[]> {
  const concurrency = options.concurrency ?? 16;
  const ops = options.ops ?? 1000;
  const rounds = options.rounds ?? 80;
  const infoRounds = Math.ceil(rounds / 2);
  const name = uniqueTableName('bench');
  await createTable(engine.dynamodb, { name, partitionKey: 'pk' });
  const table = defineTable({ client: engine.client, name, partitionKey: 'pk' });
  const keys = 1000;

  // Every write carries a fresh, higher version, so both variants take the "applied" path.
  let version = 0;
  const putItem = (i: number) => ({ pk: `k${i % keys}`, version: ++version, payload: 'x'.repeat(100) });
  const putRound = () => closedLoop(ops, concurrency, (i) => putIfNewer(table, putItem(i)));
  // The request putIfNewer sends (its condition and the write token attribute), sent raw: the library's own overhead.
  const samePutRound = () =>
    closedLoop(ops, concurrency, (i) =>
      engine.client.send(new PutCommand(buildPutIfNewer(table, putItem(i), newWriteToken()))),
    );
  const rawPutRound = () =>
    closedLoop(ops, concurrency, (i) =>
      engine.client.send(
        new PutCommand({
          TableName: name,
          Item: putItem(i),
          ConditionExpression: 'attribute_not_exists(#pk) OR #v < :v',
          ExpressionAttributeNames: { '#pk': 'pk', '#v': 'version' },
          ExpressionAttributeValues: { ':v': version },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

  // Stock large enough never to run out, so every decrement is applied.
  await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      engine.client.send(new PutCommand({ TableName: name, Item: { pk: `sku${i}`, quantity: 1e12 } })),
    ),
  );
  const guardedRound = () =>
    closedLoop(ops, concurrency, (i) =>
      guardedUpdate(
        table,
        { pk: `sku${i % 100}` },
        { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } },
      ),
    );
  // The same request racesafe sends (a one-action transaction with a ClientRequestToken, then the read of the item),
  // written once and sent raw with a fresh key and token each time: the library's own overhead.
  const template = buildGuardedUpdate(
    table,
    { pk: 'sku0' },
    { quantity: decrement(1) },
    guardParts({ quantity: { gte: 1 } }, 'require'),
    newWriteToken(),
  );
  const templateUpdate = template.TransactItems?.[0]?.Update as NonNullable<
    NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update']
  >;
  const sameRequestRound = () =>
    closedLoop(ops, concurrency, (i) =>
      engine.client
        .send(
          new TransactWriteCommand({
            ClientRequestToken: newWriteToken(),
            TransactItems: [{ Update: { ...templateUpdate, Key: { pk: `sku${i % 100}` } } }],
          }),
        )
        .then(() =>
          engine.client.send(new GetCommand({ TableName: name, Key: { pk: `sku${i % 100}` }, ConsistentRead: true })),
        ),
    );
  const rawUpdateRound = () =>
    closedLoop(ops, concurrency, (i) =>
      engine.client.send(
        new UpdateCommand({
          TableName: name,
          Key: { pk: `sku${i % 100}` },
          UpdateExpression: 'SET #q = #q - :n',
          ConditionExpression: 'attribute_exists(#pk) AND #q >= :n',
          ExpressionAttributeNames: { '#q': 'quantity', '#pk': 'pk' },
          ExpressionAttributeValues: { ':n': 1 },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

  // updateWithLock against optimistic locking as usually written (consistent read, put with version = :expected), on
  // 1000 keys so that conflicts are rare: what the exact transactional put costs.
  const lockRound = () =>
    closedLoop(ops, concurrency, (i) =>
      updateWithLock(table, { pk: `doc${i % keys}` }, (current) => ({
        pk: `doc${i % keys}`,
        n: Number(current?.n ?? 0) + 1,
      })),
    );
  const rawLockRound = () =>
    closedLoop(ops, concurrency, async (i) => {
      const pk = `raw${i % keys}`;
      const got = await engine.client.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }));
      const storedVersion = Number(got.Item?.version ?? 0);
      try {
        await engine.client.send(
          new PutCommand({
            TableName: name,
            Item: { pk, n: Number(got.Item?.n ?? 0) + 1, version: storedVersion + 1 },
            ConditionExpression: got.Item === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
            ...(got.Item === undefined ? {} : { ExpressionAttributeValues: { ':v': storedVersion } }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } catch {
        // A rare conflict between two of the 16 in flight: a raw loop would retry; one write fewer is noise here.
      }
    });

  // Warm-up: DynamoDB Local's throughput climbs for the first ~20,000 requests as its JVM compiles them.
  for (let i = 0; i < 5; i++) {
    for (const round of [
      rawPutRound,
      putRound,
      samePutRound,
      sameRequestRound,
      guardedRound,
      lockRound,
      rawLockRound,
    ]) {
      await round();
    }
  }
  const racesafe = (round: () => Promise<Round>) => ({ name: 'racesafe', round });
  const comparisons = [
    {
      name: `putIfNewer, ${concurrency} concurrent`,
      candidate: racesafe(putRound),
      baseline: { name: 'raw PutCommand', round: rawPutRound },
      target: 0.95,
    },
    // Information: the same comparison against the very request putIfNewer sends, so what remains is the library's code.
    {
      name: `putIfNewer vs the same PutItem raw, ${concurrency} concurrent`,
      candidate: racesafe(putRound),
      baseline: { name: 'the same PutItem, raw', round: samePutRound },
      target: 0,
    },
    {
      name: `guardedUpdate vs its own requests raw, ${concurrency} concurrent`,
      candidate: racesafe(guardedRound),
      baseline: { name: 'the same transaction + GetItem, raw', round: sameRequestRound },
      target: 0.95,
    },
    // Information, not a target: what exactness (a transaction with a token, and the read after it) costs over the bare
    // guarded UpdateItem, which applies twice when a response is lost.
    {
      name: `guardedUpdate vs guard-only UpdateItem, ${concurrency} concurrent`,
      candidate: racesafe(guardedRound),
      baseline: { name: 'raw UpdateCommand, guard only', round: rawUpdateRound },
      target: 0,
    },
    {
      name: `updateWithLock vs raw read + conditional put, ${concurrency} concurrent`,
      candidate: racesafe(lockRound),
      baseline: { name: 'raw GetItem + PutItem version = :v', round: rawLockRound },
      target: 0,
    },
    // Calibration: a raw request against itself. Its ratio and interval show what the machine alone does to a ratio.
    {
      name: `raw guarded UpdateItem vs itself, ${concurrency} concurrent`,
      candidate: { name: 'raw UpdateCommand, guard only', round: rawUpdateRound },
      baseline: { name: 'raw UpdateCommand, guard only', round: rawUpdateRound },
      target: 0,
    },
  ];
  const results: Comparison[] = [];
  for (const comparison of comparisons) {
    results.push(await compare({ ...comparison, rounds: comparison.target > 0 ? rounds : infoRounds }));
  }
  return results;
}
