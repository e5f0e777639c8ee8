/**
 * @module Adversarial review of the kernel's exactness claim on DynamoDB Local, with fault middleware and a socket-
 * dropping proxy written here (not the project's fault helpers, so that a shared bug cannot hide).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeWhen, freshTable, useEngine } from '../../test/engine.js';
import { shardedCounter } from '../counter/sharded-counter.js';
import { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
import { manualClock } from '../lease/clock.js';
import { acquireLease, completeLease, releaseLease } from '../lease/lease.js';
import type { OutcomeEvent } from '../observe/events.js';
import { applyOnce } from '../stream/apply-once.js';
import { defineTable, type Item } from '../table.js';
import { seededRandom } from '../testing/random.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from '../write/delete-if-not-newer.js';
import { guardedUpdate } from '../write/guarded-update.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { updateWithLock } from '../write/update-with-lock.js';

const engine = useEngine();
// guardedUpdate, updateWithLock and shardedCounter send one-action transactions, and recognising an earlier attempt
// needs the stored item on a failed condition: dynalite has neither.
const describeOnFullEngine = describeWhen(
  engine.capabilities.transactions && engine.capabilities.returnValuesOnConditionCheckFailure,
  'no transactions or ReturnValuesOnConditionCheckFailure',
);
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** What the attack does to one SDK attempt of a command (its n-th attempt on this client, from 0). */
type Fault = 'pass' | 'lose' | 'throttle' | 'inProgress' | 'error500';
type Plan = (command: string, n: number, input: unknown) => Fault | Promise<Fault>;

/**
 * A DocumentClient whose every SDK attempt (the middleware sits in the deserialize step, inside the SDK's retry loop)
 * goes through `plan`: `lose` lets the request commit and then throws the error Node gives for a reset socket;
 * `throttle` and `inProgress` refuse before the request reaches the table; `error500` commits and then answers 500.
 */
function attacked(plan: Plan, config: { maxAttempts?: number } = {}, afterLost: () => Promise<void> = async () => {}) {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: engine.endpoint, ...config });
  const counts = new Map<string, number>();
  const log: string[] = [];
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const n = counts.get(command) ?? 0;
      counts.set(command, n + 1);
      const fault = await plan(command, n, args.input);
      log.push(`${command}#${n}:${fault}`);
      if (fault === 'throttle') {
        throw new ProvisionedThroughputExceededException({ message: 'reve: throttled', $metadata: {} });
      }
      if (fault === 'inProgress') {
        throw new TransactionInProgressException({ message: 'reve: same token in progress', $metadata: {} });
      }
      const result = await next(args);
      if (fault === 'lose') await afterLost();
      if (fault === 'lose') throw Object.assign(new Error('reve: socket hang up after commit'), { code: 'ECONNRESET' });
      if (fault === 'error500') {
        throw new InternalServerError({ message: 'reve: 500 after commit', $metadata: { httpStatusCode: 500 } });
      }
      return result;
    },
    { step: 'deserialize', name: 'reveAttack', priority: 'high' },
  );
  cleanups.push(() => dynamodb.destroy());
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { client, counts, log };
}

const credentials = { accessKeyId: 'racesafe', secretAccessKey: 'racesafe' };

async function stored(name: string, pk: string): Promise<Item | undefined> {
  return (await engine.client.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }))).Item;
}

async function stockTable(quantity: number, pk = 'sku') {
  const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
  await engine.client.send(new PutCommand({ TableName: name, Item: { pk, quantity } }));
  return name;
}

const order = (amount: number) => ({
  changes: { quantity: decrement(amount) },
  require: { quantity: { gte: amount } },
});
const quick = { retry: { maxAttempts: 4, baseMs: 1, capMs: 2 } };

/** A call's outcome status, or its error's code: what the caller was told. */
async function told(call: Promise<{ status: string }>): Promise<string> {
  return call.then(
    (outcome) => outcome.status,
    (error) => (error instanceof RacesafeError ? error.code : `raw ${String(error)}`),
  );
}

/** Other writers' decrements, sent with the project's plain client while a response is being lost. */
async function otherOrders(name: string, count: number) {
  for (let i = 0; i < count; i++) {
    await engine.client.send(
      new UpdateCommand({
        TableName: name,
        Key: { pk: 'sku' },
        UpdateExpression: 'SET quantity = quantity - :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }
}

describeOnFullEngine('a landed write whose response was lost, then throttled until the budget is spent', () => {
  // Operation.send throws the *last* error: a throttle, so the caller is told "throttled" (service.failure) although
  // the first attempt committed. A caller who treats throttling as "not applied" and retries applies it twice.
  it('guardedUpdate (the SDK gives up at once): never service.failure, the stock is decremented once', async () => {
    const name = await stockTable(10);
    const { client } = attacked(
      (command, n) => (command !== 'TransactWriteItems' ? 'pass' : n === 0 ? 'lose' : 'throttle'),
      {
        maxAttempts: 1,
      },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const result = await told(guardedUpdate(table, { pk: 'sku' }, order(1), quick));
    expect((await stored(name, 'sku'))?.quantity).toBe(9);
    expect(['applied', 'write.outcomeUnknown']).toContain(result);
  });

  it('guardedUpdate (the SDK retried the lost response into throttles): never service.failure', async () => {
    const name = await stockTable(10);
    const { client } = attacked(
      (command, n) => (command !== 'TransactWriteItems' ? 'pass' : n === 0 ? 'lose' : 'throttle'),
      {
        maxAttempts: 2,
      },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const result = await told(guardedUpdate(table, { pk: 'sku' }, order(1), quick));
    expect((await stored(name, 'sku'))?.quantity).toBe(9);
    expect(['applied', 'write.outcomeUnknown']).toContain(result);
  }, 30_000);

  it('putIfNewer: never service.failure (a consistent read would even find its token)', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    const { client } = attacked((command, n) => (command !== 'PutItem' ? 'pass' : n === 0 ? 'lose' : 'throttle'), {
      maxAttempts: 1,
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const result = await told(putIfNewer(table, { pk: 'd', version: 5 }, quick));
    expect((await stored(name, 'd'))?.version).toBe(5);
    expect(['applied', 'write.outcomeUnknown']).toContain(result);
  });
});

describeOnFullEngine('the read racesafe makes after a committed guardedUpdate loses its response', () => {
  for (const sdkAttempts of [1, 3]) {
    it(`SDK maxAttempts ${sdkAttempts}, every SDK attempt of the read lost once: applied, not service.failure`, async () => {
      const name = await stockTable(10);
      const { client } = attacked((command, n) => (command === 'GetItem' && n < sdkAttempts ? 'lose' : 'pass'), {
        maxAttempts: sdkAttempts,
      });
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const result = await told(guardedUpdate(table, { pk: 'sku' }, order(1)));
      expect((await stored(name, 'sku'))?.quantity).toBe(9);
      expect(result).toBe('applied');
    }, 30_000);
  }
});

describeOnFullEngine('a shardedCounter increment whose response was lost', () => {
  it('shardedCounter.increment whose response was lost is counted once (the claim covers every write racesafe sends)', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    const { client, log } = attacked((command, n) => (command === 'TransactWriteItems' && n === 0 ? 'lose' : 'pass'));
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const counter = shardedCounter(table, { pk: 'views' }, { shards: 1 });
    const result = await told(counter.increment().then(() => ({ status: 'applied' })));
    // Told applied, so it must count once; an honest "may have landed" error would also do.
    expect(log).toContain('TransactWriteItems#0:lose');
    expect({ result, count: await counter.read() }).toEqual({ result: 'applied', count: 1 });
  });

  it('its naive twin, a plain ADD through the same attacked client, counts 2', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    const { client, log } = attacked((command, n) => (command === 'UpdateItem' && n === 0 ? 'lose' : 'pass'));
    await client.send(
      new UpdateCommand({
        TableName: name,
        Key: { pk: 'views' },
        UpdateExpression: 'ADD #c :one',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    expect(log).toContain('UpdateItem#0:lose');
    expect((await stored(name, 'views'))?.count).toBe(2);
  });
});

describeOnFullEngine('lost responses after commit with other writes in between (refused attacks)', () => {
  for (const between of [0, 1, 16, 17, 100]) {
    for (const sdkAttempts of [3, 1]) {
      it(`guardedUpdate, ${between} other orders before the ${sdkAttempts === 1 ? "racesafe's" : "SDK's"} resend: applied once`, async () => {
        const name = await stockTable(1000);
        let interleaved = false;
        const { client } = attacked(
          (command, n) => (command === 'TransactWriteItems' && n === 0 ? 'lose' : 'pass'),
          { maxAttempts: sdkAttempts },
          // The other orders land after our commit and before any resend.
          async () => {
            interleaved = true;
            await otherOrders(name, between);
          },
        );
        const table = defineTable({ client, name, partitionKey: 'pk' });
        const outcome = await guardedUpdate(table, { pk: 'sku' }, order(1), quick);
        expect(interleaved).toBe(true);
        expect(outcome.status).toBe('applied');
        expect((await stored(name, 'sku'))?.quantity).toBe(1000 - between - 1);
      }, 60_000);
    }
  }

  it('updateWithLock, 17 other increments between a lost commit and the resend: applied once, mutate called once', async () => {
    const { name, table: plain } = await freshTable(engine, { prefix: 'reve', stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'c', count: 0, version: 1 } }));
    let interleaving = false;
    const { client } = attacked(
      (command, n) => (command === 'TransactWriteItems' && n === 0 ? 'lose' : 'pass'),
      { maxAttempts: 1 },
      async () => {
        interleaving = true;
        for (let i = 0; i < 17; i++) {
          await updateWithLock(plain, { pk: 'c' }, (current) => ({
            ...current,
            pk: 'c',
            count: Number(current?.count) + 1,
          }));
        }
      },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    let mutations = 0;
    const outcome = await updateWithLock(
      table,
      { pk: 'c' },
      (current) => {
        mutations++;
        return { ...current, pk: 'c', count: Number(current?.count) + 1 };
      },
      quick,
    );
    expect(interleaving).toBe(true);
    expect(outcome.status).toBe('applied');
    expect(mutations).toBe(1);
    expect((await stored(name, 'c'))?.count).toBe(18);
  }, 60_000);

  it("racesafe's own resends lost too (3 lost in a row, SDK gives up at once): applied once, events truthful", async () => {
    const name = await stockTable(10);
    const { client, counts } = attacked((command, n) => (command === 'TransactWriteItems' && n < 3 ? 'lose' : 'pass'), {
      maxAttempts: 1,
    });
    const events: OutcomeEvent[] = [];
    const table = defineTable({ client, name, partitionKey: 'pk', observe: (event) => events.push(event) });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, order(1), {
      retry: { maxAttempts: 6, baseMs: 1, capMs: 2 },
    });
    expect(outcome.status).toBe('applied');
    expect((await stored(name, 'sku'))?.quantity).toBe(9);
    expect(counts.get('TransactWriteItems')).toBe(4);
    expect(events.filter((event) => event.status === 'retried')).toHaveLength(3);
    expect(events.at(-1)?.status).toBe('applied');
  });

  it('TransactionInProgressException and a 500 after commit: applied once', async () => {
    const name = await stockTable(10);
    const faults: Fault[] = ['error500', 'inProgress', 'lose', 'inProgress'];
    const { client } = attacked((command, n) => (command === 'TransactWriteItems' ? (faults[n] ?? 'pass') : 'pass'), {
      maxAttempts: 1,
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const outcome = await guardedUpdate(table, { pk: 'sku' }, order(1), {
      retry: { maxAttempts: 8, baseMs: 1, capMs: 2 },
    });
    expect(outcome.status).toBe('applied');
    expect((await stored(name, 'sku'))?.quantity).toBe(9);
  });

  it('the guard the landed attempt made false (stock 1 -> 0): applied, not rejected', async () => {
    const name = await stockTable(1);
    for (const sdkAttempts of [1, 3]) {
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 1 } }));
      const { client } = attacked((command, n) => (command === 'TransactWriteItems' && n === 0 ? 'lose' : 'pass'), {
        maxAttempts: sdkAttempts,
      });
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const outcome = await guardedUpdate(table, { pk: 'sku' }, order(1), quick);
      expect(outcome.status).toBe('applied');
      expect((await stored(name, 'sku'))?.quantity).toBe(0);
    }
  });

  it('putIfNewer superseded between its lost response and the resend: stale with mayHaveLanded', async () => {
    const { name, table: plain } = await freshTable(engine, { prefix: 'reve', stream: false });
    for (const sdkAttempts of [1, 3]) {
      const pk = `d${sdkAttempts}`;
      let superseded = false;
      const { client } = attacked(
        async (command, n) => {
          if (command !== 'PutItem') return 'pass';
          if (n === 1 && !superseded) {
            superseded = true;
            await putIfNewer(plain, { pk, version: 6 });
          }
          return n === 0 ? 'lose' : 'pass';
        },
        { maxAttempts: sdkAttempts },
      );
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const outcome = await putIfNewer(table, { pk, version: 5 }, quick);
      expect(superseded).toBe(true);
      expect(outcome).toMatchObject({ status: 'stale', mayHaveLanded: true });
      expect((await stored(name, pk))?.version).toBe(6);
    }
  });

  it('putIfNewer with a guardedUpdate on another field in between: still recognised as applied', async () => {
    const { name, table: plain } = await freshTable(engine, { prefix: 'reve', stream: false });
    let between = false;
    const { client } = attacked(
      async (command, n) => {
        if (command !== 'PutItem') return 'pass';
        if (n === 1 && !between) {
          between = true;
          await guardedUpdate(plain, { pk: 'd' }, { changes: { hits: increment(1) } });
        }
        return n === 0 ? 'lose' : 'pass';
      },
      { maxAttempts: 1 },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const outcome = await putIfNewer(table, { pk: 'd', version: 5, hits: 0 }, quick);
    expect(between).toBe(true);
    expect(outcome.status).toBe('applied');
    expect((await stored(name, 'd'))?.hits).toBe(1);
  });

  it('deleteIfNotNewer retried after a lost response (tombstone and delete modes): applied', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    for (const mode of ['tombstone', 'delete'] as const) {
      const pk = `x-${mode}`;
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk, version: 3 } }));
      const { client } = attacked(
        (command, n) => ((command === 'PutItem' || command === 'DeleteItem') && n === 0 ? 'lose' : 'pass'),
        {
          maxAttempts: 1,
        },
      );
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const outcome = await deleteIfNotNewer(table, { pk }, 4, { mode, ...quick });
      expect(outcome.status).toBe('applied');
    }
  });

  it('a builder transaction lost twice after commit with 17 writes in between: applied once', async () => {
    const name = await stockTable(100);
    let interleaved = false;
    const { client } = attacked(
      async (command, n) => {
        if (command !== 'TransactWriteItems') return 'pass';
        if (n === 2 && !interleaved) {
          interleaved = true;
          await otherOrders(name, 17);
        }
        return n < 2 ? 'lose' : 'pass';
      },
      { maxAttempts: 1 },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const result = await transaction()
      .update(table, { pk: 'sku' }, order(5))
      .put(table, { pk: 'order-1', amount: 5 }, { require: { pk: { exists: false } } })
      .commit({ maxAttempts: 6 });
    expect(result.status).toBe('applied');
    expect(interleaved).toBe(true);
    expect((await stored(name, 'sku'))?.quantity).toBe(100 - 17 - 5);
  });
});

describeOnFullEngine('a real connection reset: a proxy drops the socket after DynamoDB Local answered', () => {
  let proxy: Server;
  let drop: (target: string) => boolean = () => false;
  const proxied = async () => {
    const upstream = new URL(engine.endpoint);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const forward = httpRequest(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => body.push(chunk));
            answer.on('end', () => {
              // The write committed on the engine; the caller never hears of it.
              if (drop(target)) return req.socket.destroy();
              res.writeHead(answer.statusCode ?? 500, answer.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        forward.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dynamodb = new DynamoDBClient({
      region: 'us-east-1',
      credentials,
      endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    });
    cleanups.push(() => dynamodb.destroy());
    return DynamoDBDocumentClient.from(dynamodb);
  };
  afterAll(() => proxy?.close());

  it('guardedUpdate, updateWithLock, putIfNewer and deleteIfNotNewer: each applied once', async () => {
    const client = await proxied();
    const name = await stockTable(10);
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'c', count: 0, version: 1 } }));
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const dropFirst = (which: string) => {
      let dropped = 0;
      drop = (target) => target.endsWith(which) && dropped++ < 2;
      return () => dropped;
    };
    let dropped = dropFirst('TransactWriteItems');
    expect((await guardedUpdate(table, { pk: 'sku' }, order(1))).status).toBe('applied');
    expect(dropped()).toBeGreaterThanOrEqual(2);
    expect((await stored(name, 'sku'))?.quantity).toBe(9);

    dropped = dropFirst('TransactWriteItems');
    const lock = await updateWithLock(table, { pk: 'c' }, (current) => ({
      ...current,
      pk: 'c',
      count: Number(current?.count) + 1,
    }));
    expect(lock.status).toBe('applied');
    expect((await stored(name, 'c'))?.count).toBe(1);

    dropped = dropFirst('PutItem');
    expect((await putIfNewer(table, { pk: 'v', version: 2 })).status).toBe('applied');
    dropped = dropFirst('PutItem');
    expect((await deleteIfNotNewer(table, { pk: 'v' }, 2)).status).toBe('applied');
    expect((await stored(name, 'v'))?._rsDeleted).toBe(true);
  }, 60_000);
});

describeOnFullEngine('hot keys: many concurrent writers, random lost responses, throttles and 500s', () => {
  const noisy = (seed: number, lose: number, throttle: number) => {
    const random = seededRandom(seed);
    return attacked(
      (command) => {
        if (command === 'GetItem') return 'pass';
        const roll = random();
        if (roll < throttle) return 'throttle';
        if (roll < throttle + lose) return 'lose';
        if (roll < throttle + lose + 0.05) return 'error500';
        return 'pass';
      },
      { maxAttempts: 2 },
    );
  };

  it('40 guardedUpdate orders of 1-3 on a stock of 60: units told applied = units sold, no failure', async () => {
    const name = await stockTable(60);
    const { client } = noisy(7, 0.3, 0.1);
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const random = seededRandom(11);
    const amounts = Array.from({ length: 40 }, () => 1 + Math.floor(random() * 3));
    const results = await Promise.all(
      amounts.map(async (amount) => ({ amount, told: await told(guardedUpdate(table, { pk: 'sku' }, order(amount))) })),
    );
    const sold = 60 - Number((await stored(name, 'sku'))?.quantity);
    const toldApplied = results.filter((r) => r.told === 'applied').reduce((sum, r) => sum + r.amount, 0);
    expect(results.filter((r) => r.told !== 'applied' && r.told !== 'rejected')).toEqual([]);
    expect(toldApplied).toBe(sold);
  }, 120_000);

  it('30 updateWithLock increments on one key: the count equals the calls told applied', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'c', count: 0, version: 1 } }));
    const { client } = noisy(3, 0.25, 0.1);
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        told(
          updateWithLock(
            table,
            { pk: 'c' },
            (current) => ({ ...current, pk: 'c', count: Number(current?.count) + 1 }),
            {
              maxAttempts: 40,
              backoff: { baseMs: 5, capMs: 200 },
            },
          ),
        ),
      ),
    );
    const applied = results.filter((r) => r === 'applied').length;
    expect(results.filter((r) => r !== 'applied' && r !== 'write.conflict')).toEqual([]);
    expect(Number((await stored(name, 'c'))?.count)).toBe(applied);
  }, 120_000);
});

describeOnFullEngine("the SDK's client-wide retry quota spent, and other racesafe writes", () => {
  it('60 orders on one client, each losing all 3 SDK attempts of its first send: all applied once', async () => {
    const name = await stockTable(100);
    const arrivals = new Map<string, number>();
    const { client } = attacked((command, _n, input) => {
      if (command !== 'TransactWriteItems') return 'pass';
      const token = String((input as { ClientRequestToken?: string }).ClientRequestToken);
      const seen = arrivals.get(token) ?? 0;
      arrivals.set(token, seen + 1);
      return seen < 3 ? 'lose' : 'pass';
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const results: string[] = [];
    for (let i = 0; i < 60; i++) {
      results.push(await told(guardedUpdate(table, { pk: 'sku' }, order(1), { retry: { baseMs: 1, capMs: 5 } })));
    }
    expect(results.filter((result) => result !== 'applied')).toEqual([]);
    expect((await stored(name, 'sku'))?.quantity).toBe(40);
  }, 120_000);

  it('applyOnce lost twice after commit: applied, the effect once, and a redelivery is duplicate', async () => {
    const name = await stockTable(10);
    const { client } = attacked((command, n) => (command === 'TransactWriteItems' && n < 2 ? 'lose' : 'pass'), {
      maxAttempts: 1,
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const effect = (tx: Parameters<Parameters<typeof applyOnce>[2]>[0]) => tx.update(table, { pk: 'sku' }, order(2));
    expect((await applyOnce(table, 'evt-1', effect)).status).toBe('applied');
    expect((await applyOnce(table, 'evt-1', effect)).status).toBe('duplicate');
    expect((await stored(name, 'sku'))?.quantity).toBe(8);
  });
});

describeOnFullEngine('leases: a completion lost, then expired and taken over before its resend', () => {
  it('completeLease is not told lost when its result was stored (the record says so: lost means "not stored")', async () => {
    const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
    const clock = manualClock(1_000_000);
    const plain = defineTable({ client: engine.client, name, partitionKey: 'pk' });
    let takenOver = false;
    const { client } = attacked(
      async (command, n) => {
        if (command !== 'UpdateItem') return 'pass';
        // UpdateItem #0 is the acquire, #1 the completion (lost), #2 its resend after a takeover.
        if (n === 2 && !takenOver) {
          takenOver = true;
          clock.advance(200);
          const other = await acquireLease(plain, { pk: 'job' }, { clock, leaseMs: 10_000 });
          expect(other.status).toBe('acquired');
        }
        return n === 1 ? 'lose' : 'pass';
      },
      { maxAttempts: 1 },
    );
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const acquired = await acquireLease(table, { pk: 'job' }, { clock, leaseMs: 10_000 });
    if (acquired.status !== 'acquired') throw new Error('not acquired');
    const done = await completeLease(table, acquired.lease, { value: 'ours' }, { clock, validForMs: 100, ...quick });
    expect(takenOver).toBe(true);
    // The result was stored (and served until it expired): "lost" here tells the caller it was not.
    expect((await stored(name, 'job'))?.value).toBe('ours');
    // Either the truth (completed) or a lost that says its result may have been stored.
    expect(done.status === 'completed' || (done as { mayHaveLanded?: boolean }).mayHaveLanded === true).toBe(true);
  });
});

describeOnFullEngine(
  'leases: a completion that landed, then the result expired and another caller took over before the resend',
  () => {
    for (const then of ['holds', 'released'] as const) {
      it(`acquireLease lost, A's lease ends, B acquires and ${then === 'holds' ? 'holds it' : 'releases it'} before A's resend: A is told the truth`, async () => {
        const { name } = await freshTable(engine, { prefix: 'reve', stream: false });
        const clock = manualClock(1_000_000);
        const plain = defineTable({ client: engine.client, name, partitionKey: 'pk' });
        let other = false;
        const { client } = attacked(
          async (command, n) => {
            if (command !== 'UpdateItem') return 'pass';
            if (n === 1 && !other) {
              other = true;
              clock.advance(1_000);
              const taken = await acquireLease(plain, { pk: 'job' }, { clock, leaseMs: 500 });
              if (taken.status !== 'acquired') throw new Error('B did not acquire');
              if (then === 'released') await releaseLease(plain, taken.lease, { clock, leaseMs: 500 });
            }
            return n === 0 ? 'lose' : 'pass';
          },
          { maxAttempts: 1 },
        );
        const table = defineTable({ client, name, partitionKey: 'pk' });
        const outcome = await acquireLease(table, { pk: 'job' }, { clock, leaseMs: 500, ...quick });
        const record = await stored(name, 'job');
        expect(other).toBe(true);
        if (then === 'holds') {
          expect(outcome.status).toBe('busy');
        } else {
          // The key was free, so a re-acquire is fair; the lease A is handed must be the one stored.
          expect(outcome.status).toBe('acquired');
          if (outcome.status === 'acquired') {
            expect(Object.values(record ?? {})).toContain(outcome.lease.owner);
            expect(Object.values(record ?? {})).toContain(outcome.lease.fencingToken);
          }
        }
      });
    }
  },
);
