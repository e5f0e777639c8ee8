/**
 * @module guardedUpdate and updateWithLock on one hot item, with lost responses: no update is lost and every change told
 * `applied` is in the final state exactly once; the naive twin (the lock's put conditioned on the version alone, as
 * before) overwrites guarded decrements that land between its read and its put.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { defineTable, type Item } from '../table.js';
import { seededRandom } from '../testing/random.js';
import { transaction } from '../transaction/builder.js';
import { guardedUpdate } from './guarded-update.js';
import { lossyClient } from './naive-twins.test-support.js';
import { updateWithLock } from './update-with-lock.js';

const engine = useEngine();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const orders = 60;
const bumps = 60;
const stock = 1000;
const amounts = (() => {
  const random = seededRandom(11);
  return Array.from({ length: orders }, () => 1 + Math.floor(random() * 3));
})();

/** The work between a lock's read and its put (a few ms, as real `mutate` functions take): the window orders land in. */
const thinking = () => new Promise((resolve) => setTimeout(resolve, 3));

/**
 * The naive twin of one updateWithLock increment: the same exactly-once transaction (a ClientRequestToken per
 * attempt, resent by the SDK after a lost response), but conditioned as before the fix, on `version = :read` alone.
 */
async function versionOnlyIncrement(client: DynamoDBDocumentClient, name: string): Promise<'applied' | 'conflict'> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const read = (await client.send(new GetCommand({ TableName: name, Key: { pk: 'hot' }, ConsistentRead: true })))
      .Item as Item;
    const { _rsToken: _token, ...current } = read;
    await thinking();
    try {
      await client.send(
        new TransactWriteCommand({
          ClientRequestToken: `naive-${attempt}-${Math.random().toString(36).slice(2)}`,
          TransactItems: [
            {
              Put: {
                TableName: name,
                Item: { ...current, n: Number(current.n) + 1, version: Number(current.version) + 1 },
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': current.version },
              },
            },
          ],
        }),
      );
      return 'applied';
    } catch (error) {
      if (!isConditionalCheckFailed(error) && (error as Error).name !== 'TransactionCanceledException') throw error;
    }
  }
  return 'conflict';
}

async function race(variant: 'safe' | 'naive') {
  const { name } = await freshTable(engine, { prefix: `lockguard_${variant}`, stream: false });
  await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'hot', version: 1, quantity: stock, n: 0 } }));
  const { client, faults, destroy } = lossyClient(engine.endpoint, {
    seed: 5,
    lostResponse: { commands: ['TransactWriteItems'], probability: 0.2 },
    latency: { minMs: 0, maxMs: 4 },
  });
  cleanups.push(destroy);
  const table = defineTable({ client, name, partitionKey: 'pk' });
  let sold = 0;
  let bumped = 0;
  let conflicts = 0;
  const order = async (amount: number) => {
    const outcome = await guardedUpdate(
      table,
      { pk: 'hot' },
      { changes: { quantity: decrement(amount) }, require: { quantity: { gte: amount } } },
      { retry: { baseMs: 1, capMs: 20 } },
    );
    if (outcome.status === 'applied') sold += amount;
  };
  const bump = async () => {
    if (variant === 'naive') {
      if ((await versionOnlyIncrement(client, name)) === 'applied') bumped++;
      else conflicts++;
      return;
    }
    try {
      const bumpOne = async (current: Item | undefined) => {
        await thinking();
        return { ...current, pk: 'hot', n: Number(current?.n) + 1 };
      };
      await updateWithLock(table, { pk: 'hot' }, bumpOne, {
        maxAttempts: 100,
        backoff: { baseMs: 1, capMs: 30 },
        retry: { baseMs: 1, capMs: 20 },
      });
      bumped++;
    } catch (error) {
      if (!(error instanceof RacesafeError && error.is('write.conflict'))) throw error;
      conflicts++;
    }
  };
  // Interleaved: order, bump, order, bump, … all at once on the one item.
  await Promise.all(
    Array.from({ length: orders + bumps }, (_, i) => (i % 2 === 0 ? order(amounts[i / 2] as number) : bump())),
  );
  const final = (
    await engine.client.send(new GetCommand({ TableName: name, Key: { pk: 'hot' }, ConsistentRead: true }))
  ).Item as Item;
  return {
    quantity: final.quantity,
    expectedQuantity: stock - sold,
    n: final.n,
    bumped,
    conflicts,
    lost: faults.stats.lostResponse.injected,
  };
}

describe(`${orders} guardedUpdate orders and ${bumps} updateWithLock increments on one item, 20% of responses lost`, () => {
  itWhen(['transactions'])(
    'the final item is the start plus every change told applied, each once',
    async () => {
      const result = await race('safe');
      expect(result.lost).toBeGreaterThan(0);
      expect(result.quantity).toBe(result.expectedQuantity);
      expect(result.n).toBe(result.bumped);
      expect(result.bumped + result.conflicts).toBe(bumps);
    },
    120_000,
  );

  itWhen(['transactions'])(
    'the naive twin, the lock put conditioned on the version alone: it overwrites decrements told applied',
    async () => {
      const result = await race('naive');
      expect(result.lost).toBeGreaterThan(0);
      expect(result.n).toBe(result.bumped);
      // Stock comes back: decrements landed between a lock's read and its put were overwritten.
      expect(result.quantity).toBeGreaterThan(result.expectedQuantity);
    },
    120_000,
  );
});

describe("each racesafe write that leaves the version alone, landing between the lock's read and its put", () => {
  const between = {
    guardedUpdate: (table: ReturnType<typeof defineTable>) =>
      guardedUpdate(table, { pk: 'hot' }, { changes: { quantity: decrement(1) } }),
    'transaction().update': (table: ReturnType<typeof defineTable>) =>
      transaction()
        .update(table, { pk: 'hot' }, { changes: { quantity: increment(-1) } })
        .commit(),
    'transaction().put of the same version': (table: ReturnType<typeof defineTable>) =>
      transaction().put(table, { pk: 'hot', version: 1, quantity: 9, n: 0 }).commit(),
  };
  for (const [writer, write] of Object.entries(between)) {
    itWhen(['transactions'])(`${writer}: the put conflicts, the next attempt sees it`, async () => {
      const { table, name } = await freshTable(engine, { stream: false });
      await engine.client.send(
        new PutCommand({ TableName: name, Item: { pk: 'hot', version: 1, quantity: 10, n: 0 } }),
      );
      let calls = 0;
      const outcome = await updateWithLock(table, { pk: 'hot' }, async (current) => {
        calls++;
        // The first run of mutate: another racesafe write lands after the lock read the item.
        if (calls === 1) await write(table);
        return { ...current, pk: 'hot', n: Number(current?.n) + 1 };
      });
      expect(outcome).toMatchObject({ status: 'applied', attempts: 2 });
      const final = (
        await engine.client.send(new GetCommand({ TableName: name, Key: { pk: 'hot' }, ConsistentRead: true }))
      ).Item as Item;
      expect({ quantity: final.quantity, n: final.n, version: final.version }).toEqual({
        quantity: 9,
        n: 1,
        version: 2,
      });
    });
  }
});
