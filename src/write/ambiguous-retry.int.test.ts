import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { decrement, increment } from '../expression/update.js';
import { defineTable, type Table } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults } from '../testing/faults.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from './delete-if-not-newer.js';
import { guardedUpdate } from './guarded-update.js';
import { putIfNewer } from './put-if-newer.js';
import { updateIfNewer } from './update-if-newer.js';
import { updateWithLock } from './update-with-lock.js';

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/**
 * A table handle over its own client whose next response from `command` is lost after the engine committed it, so
 * the SDK's retry re-sends a write that already landed: the ambiguous retry.
 */
async function withLostResponse(command: string) {
  const { table: plain, name } = await freshTable(engine, { stream: false });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  clients.push(dynamodb);
  const client = DynamoDBDocumentClient.from(dynamodb);
  const faults = createFaults({ seed: 1, lostResponse: { commands: [command], limit: 1 } });
  faults.attach(client);
  const table: Table = defineTable({ client, name, partitionKey: 'pk' });
  return { table, plain, client, name, faults };
}

/**
 * Once the first request that `when` accepts has landed, and before its (lost) response travels up to the SDK's retry,
 * runs `others`: other writers commit in between. Returns whether that happened.
 */
function interleaveAfterFirstWrite(
  client: DynamoDBDocumentClient,
  others: () => Promise<unknown>,
  when: (input: object) => boolean = () => true,
): () => boolean {
  let interleaved = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      if (!interleaved && when(args.input as object)) {
        interleaved = true;
        await others();
      }
      return result;
    },
    { step: 'deserialize', name: 'interleaveOtherWriters' },
  );
  return () => interleaved;
}

async function stored(name: string, pk: string) {
  return (await engine.client.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }))).Item;
}

describe('ambiguous retries: the response is lost after commit and the SDK sends the write again', () => {
  it('putIfNewer reports applied, not duplicate or stale', async () => {
    const { table, plain, faults } = await withLostResponse('PutItem');
    await putIfNewer(plain, { pk: 'a', version: 41 });
    expect(await putIfNewer(table, { pk: 'a', version: 42 })).toEqual({
      status: 'applied',
      item: { pk: 'a', version: 42 },
    });
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  it('putIfNewer reports stale when a newer version landed between the lost response and the retry', async () => {
    const { table, plain, client, faults } = await withLostResponse('PutItem');
    const interleaved = interleaveAfterFirstWrite(client, () => putIfNewer(plain, { pk: 'a', version: 43 }));
    // A put replaces the whole item, token included: the retry cannot see that 42 landed, only that 43 is stored,
    // and it says that its earlier attempt may have landed.
    expect(await putIfNewer(table, { pk: 'a', version: 42 })).toEqual({
      status: 'stale',
      current: { pk: 'a', version: 43 },
      mayHaveLanded: true,
    });
    expect(interleaved()).toBe(true);
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  it('updateIfNewer reports applied with the stored item', async () => {
    const { table, faults } = await withLostResponse('UpdateItem');
    const outcome = await updateIfNewer(table, { pk: 'a' }, 3, { n: increment(1) });
    expect(outcome).toEqual({ status: 'applied', item: { pk: 'a', version: 3, n: 1 } });
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  it('deleteIfNotNewer (tombstone) reports applied, not duplicate', async () => {
    const { table, plain, faults } = await withLostResponse('PutItem');
    await putIfNewer(plain, { pk: 'a', version: 1 });
    expect((await deleteIfNotNewer(table, { pk: 'a' }, 2)).status).toBe('applied');
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  itWhen(['transactions'])(
    'guardedUpdate decrements once and reports applied; a plain conditional update decrements twice',
    async () => {
      const { table, client, name, faults } = await withLostResponse('TransactWriteItems');
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'safe', quantity: 10 } }));
      const outcome = await guardedUpdate(
        table,
        { pk: 'safe' },
        {
          changes: { quantity: decrement(1) },
          require: { quantity: { gte: 1 } },
        },
      );
      expect(outcome).toMatchObject({ status: 'applied', item: { quantity: 9 } });
      expect((await stored(name, 'safe'))?.quantity).toBe(9);

      // The naive twin: the same guard without a write token, through a client that also loses one response.
      const naiveFaults = createFaults({ seed: 1, lostResponse: { commands: ['UpdateItem'], limit: 1 } });
      const detach = naiveFaults.attach(client);
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'naive', quantity: 10 } }));
      await client.send(
        new UpdateCommand({
          TableName: name,
          Key: { pk: 'naive' },
          UpdateExpression: 'SET quantity = quantity - :one',
          ConditionExpression: 'quantity >= :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      detach();
      expect((await stored(name, 'naive'))?.quantity).toBe(8);
      expect(faults.stats.lostResponse.injected + naiveFaults.stats.lostResponse.injected).toBe(2);
    },
  );

  itWhen(['transactions'])('updateWithLock increments once and reports applied, not a conflict', async () => {
    const { table, plain, name, faults } = await withLostResponse('TransactWriteItems');
    await updateWithLock(plain, { pk: 'doc' }, () => ({ pk: 'doc', n: 0 }));
    const outcome = await updateWithLock(table, { pk: 'doc' }, (current) => ({ pk: 'doc', n: Number(current?.n) + 1 }));
    expect(outcome).toMatchObject({ status: 'applied', item: { n: 1, version: 2 } });
    expect((await stored(name, 'doc'))?.n).toBe(1);
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  itWhen(['transactions'])(
    'updateWithLock recognises its landed attempt even after another writer followed it',
    async () => {
      const { table, plain, name, client, faults } = await withLostResponse('TransactWriteItems');
      await updateWithLock(plain, { pk: 'doc' }, () => ({ pk: 'doc', n: 0 }));
      // Closest to the wire: once our write has landed, another writer commits before the (lost) response travels up.
      const interleaved = interleaveAfterFirstWrite(
        client,
        () => updateWithLock(plain, { pk: 'doc' }, (current) => ({ pk: 'doc', n: Number(current?.n) + 100 })),
        (input) => 'TransactItems' in input,
      );
      const outcome = await updateWithLock(table, { pk: 'doc' }, (current) => ({
        pk: 'doc',
        n: Number(current?.n) + 1,
      }));
      expect(interleaved()).toBe(true);
      expect(faults.stats.lostResponse.injected).toBe(1);
      expect(outcome.status).toBe('applied');
      expect(outcome.attempts).toBe(1);
      // Our +1 landed once, the other writer's +100 after it: nothing lost, nothing applied twice.
      expect(await stored(name, 'doc')).toMatchObject({ n: 101, version: 3 });
    },
  );

  itWhen(['transactions'])(
    'guardedUpdate recognises its landed attempt even after other writers followed it',
    async () => {
      const { table, plain, name, client, faults } = await withLostResponse('TransactWriteItems');
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 10 } }));
      const interleaved = interleaveAfterFirstWrite(client, async () => {
        for (let i = 0; i < 3; i++) {
          await guardedUpdate(
            plain,
            { pk: 'sku' },
            { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } },
          );
        }
      });
      const outcome = await guardedUpdate(
        table,
        { pk: 'sku' },
        {
          changes: { quantity: decrement(1) },
          require: { quantity: { gte: 1 } },
        },
      );
      expect(interleaved()).toBe(true);
      expect(faults.stats.lostResponse.injected).toBe(1);
      expect(outcome.status).toBe('applied');
      expect((await stored(name, 'sku'))?.quantity).toBe(6);
    },
  );

  itWhen(['transactions'])(
    'a transaction is applied once: the SDK re-sends it under the same ClientRequestToken',
    async () => {
      const { table, name, faults } = await withLostResponse('TransactWriteItems');
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 1 } }));
      // Without the token the re-sent transaction would fail its guard (the stock is 0 by then) and be cancelled.
      const result = await transaction()
        .update(table, { pk: 'sku' }, { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } })
        .put(table, { pk: 'order#1', sku: 'sku' }, { require: { pk: { exists: false } } })
        .commit();
      expect(faults.stats.lostResponse.injected).toBe(1);
      expect(result.status).toBe('applied');
      expect((await stored(name, 'sku'))?.quantity).toBe(0);
      expect(await stored(name, 'order#1')).toEqual({ pk: 'order#1', sku: 'sku', _rsToken0: expect.any(String) });
    },
  );
});

describe("bookkeeping on users' items", () => {
  it('a versioned item carries one token attribute, a guarded or optimistic update one change token', async () => {
    const { table, name } = await freshTable(engine, { stream: false });
    await putIfNewer(table, { pk: 'v', version: 1, n: 0 });
    for (let version = 2; version <= 40; version++)
      await updateIfNewer(table, { pk: 'v' }, version, { n: increment(1) });
    const versioned = await stored(name, 'v');
    expect(Object.keys(versioned ?? {}).sort()).toEqual(['_rsToken', 'n', 'pk', 'version']);
    expect(versioned?.n).toBe(39);
    if (!engine.capabilities.transactions) return;
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'hot', n: 0 } }));
    for (let i = 0; i < 40; i++) await guardedUpdate(table, { pk: 'hot' }, { changes: { n: increment(1) } });
    const token = expect.stringMatching(/^[A-Za-z0-9_-]{16}$/);
    expect(await stored(name, 'hot')).toEqual({ pk: 'hot', n: 40, _rsToken0: token });
    for (let i = 0; i < 5; i++)
      await updateWithLock(table, { pk: 'doc' }, (current) => ({ pk: 'doc', n: Number(current?.n ?? 0) + 1 }));
    expect(await stored(name, 'doc')).toEqual({ pk: 'doc', n: 5, version: 5, _rsToken0: token });
    // On a versioned item the change token comes beside the write token, which stays (see the adversarial suite).
    await guardedUpdate(table, { pk: 'v' }, { changes: { n: increment(1) } });
    expect(Object.keys((await stored(name, 'v')) ?? {}).sort()).toEqual([
      '_rsToken',
      '_rsToken0',
      'n',
      'pk',
      'version',
    ]);
  });
});
