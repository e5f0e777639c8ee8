/**
 * @module Issue 11, cases 1-4 on DynamoDB Local, each against its naive twin: a write racesafe sends is applied at most
 * once whatever happens between a lost response and its retry, and a landed write is never reported as lost.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import type { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { defineTable } from '../table.js';
import { seededRandom } from '../testing/random.js';
import { guardedUpdate } from './guarded-update.js';
import { interleaveAfterFirstWrite, lossyClient, registerDecrement } from './naive-twins.test-support.js';
import { updateWithLock } from './update-with-lock.js';

const engine = useEngine();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function lossy(...args: Parameters<typeof lossyClient>) {
  const made = lossyClient(...args);
  cleanups.push(made.destroy);
  return made;
}

async function stored(name: string, pk: string) {
  return (await engine.client.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }))).Item;
}

const order = (amount: number) => ({
  changes: { quantity: decrement(amount) },
  require: { quantity: { gte: amount } },
});

describe('case 1: no bound on the writes between a lost response and its retry', () => {
  for (const between of [16, 32]) {
    itWhen(['transactions'])(`guardedUpdate: ${between} other orders land before the retry: applied once`, async () => {
      const { table: plain, name } = await freshTable(engine, { stream: false });
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 100 } }));
      const { client, faults } = lossy(engine.endpoint, {
        seed: 1,
        lostResponse: { commands: ['TransactWriteItems'], limit: 1 },
      });
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const interleaved = interleaveAfterFirstWrite(client, async () => {
        for (let i = 0; i < between; i++) await guardedUpdate(plain, { pk: 'sku' }, order(1));
      });
      const outcome = await guardedUpdate(table, { pk: 'sku' }, order(1));
      expect(interleaved()).toBe(true);
      expect(faults.stats.lostResponse.injected).toBe(1);
      expect(outcome.status).toBe('applied');
      expect((await stored(name, 'sku'))?.quantity).toBe(100 - between - 1);
    });
  }

  itWhen(['transactions'])(
    'the naive twin, the old 16-slot register: recognised after 15, applied twice after 16',
    async () => {
      const { name } = await freshTable(engine, { stream: false });
      const sold = async (between: number) => {
        const pk = `sku${between}`;
        await engine.client.send(new PutCommand({ TableName: name, Item: { pk, quantity: 100 } }));
        const { client, faults } = lossy(engine.endpoint, {
          seed: 1,
          lostResponse: { commands: ['UpdateItem'], limit: 1 },
        });
        interleaveAfterFirstWrite(client, async () => {
          for (let i = 0; i < between; i++) await registerDecrement(engine.client, name, { pk }, 1);
        });
        const told = await registerDecrement(client, name, { pk }, 1);
        expect(faults.stats.lostResponse.injected).toBe(1);
        return { told, quantity: (await stored(name, pk))?.quantity };
      };
      expect(await sold(15)).toEqual({ told: 'applied', quantity: 84 });
      // 17 orders of 1, the stock ends at 82: the lost one was applied twice and reported once.
      expect(await sold(16)).toEqual({ told: 'applied', quantity: 82 });
    },
  );

  itWhen(['transactions'])('updateWithLock: 32 other increments land before the retry: applied once', async () => {
    const { table: plain, name } = await freshTable(engine, { stream: false });
    await updateWithLock(plain, { pk: 'doc' }, () => ({ pk: 'doc', n: 0 }));
    const { client } = lossy(engine.endpoint, {
      seed: 1,
      lostResponse: { commands: ['TransactWriteItems'], limit: 1 },
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const bump = (current: Record<string, unknown> | undefined) => ({ pk: 'doc', n: Number(current?.n) + 1 });
    const interleaved = interleaveAfterFirstWrite(
      client,
      async () => {
        for (let i = 0; i < 32; i++) await updateWithLock(plain, { pk: 'doc' }, bump);
      },
      (input) => 'TransactItems' in input,
    );
    const outcome = await updateWithLock(table, { pk: 'doc' }, bump);
    expect(interleaved()).toBe(true);
    expect(outcome).toMatchObject({ status: 'applied', attempts: 1 });
    expect((await stored(name, 'doc'))?.n).toBe(33);
  });
});

describe('case 2: 150 concurrent orders of 1-3 units against a stock of 100, 25% of responses lost', () => {
  const amounts = (() => {
    const random = seededRandom(11);
    return Array.from({ length: 150 }, () => 1 + Math.floor(random() * 3));
  })();

  itWhen(['transactions'])('guardedUpdate: callers are told exactly the units that were sold', async () => {
    const { name } = await freshTable(engine, { stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 100 } }));
    const { client, faults } = lossy(engine.endpoint, {
      seed: 2,
      lostResponse: { commands: ['TransactWriteItems'], probability: 0.25 },
    });
    const table = defineTable({ client, name, partitionKey: 'pk' });
    const outcomes = await Promise.all(amounts.map((amount) => guardedUpdate(table, { pk: 'sku' }, order(amount))));
    const told = outcomes.reduce(
      (sum, outcome, i) => sum + (outcome.status === 'applied' ? (amounts[i] as number) : 0),
      0,
    );
    const left = Number((await stored(name, 'sku'))?.quantity);
    expect(faults.stats.lostResponse.injected).toBeGreaterThan(20);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(told).toBe(100 - left);
    // Every rejection is true: the stock left could not serve it (the stock only falls, so it could not then either).
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected') expect(amounts[i]).toBeGreaterThan(left);
    }
  });

  it('the naive twin, a plain guarded UpdateItem: callers are not told the units that were sold', async () => {
    const { name } = await freshTable(engine, { stream: false });
    await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 100 } }));
    const { client } = lossy(engine.endpoint, {
      seed: 2,
      lostResponse: { commands: ['UpdateItem'], probability: 0.25 },
    });
    const told = await Promise.all(
      amounts.map(async (amount) => {
        try {
          await client.send(
            new UpdateCommand({
              TableName: name,
              Key: { pk: 'sku' },
              UpdateExpression: 'SET quantity = quantity - :n',
              ConditionExpression: 'quantity >= :n',
              ExpressionAttributeValues: { ':n': amount },
            }),
          );
          return amount;
        } catch {
          // "rejected" (the SDK's retry of a landed order failed the guard) or "failed" (the quota ran out).
          return 0;
        }
      }),
    );
    const left = Number((await stored(name, 'sku'))?.quantity);
    expect(told.reduce((sum, n) => sum + n, 0)).not.toBe(100 - left);
  });
});

describe('case 3: 3 processes x 20 workers of updateWithLock on 2 keys, 20% lost responses, 10% throttling', () => {
  const run = promisify(execFile);

  async function race(mode: 'safe' | 'naive') {
    const { name } = await freshTable(engine, { prefix: `lossy_lock_${mode}`, stream: false });
    const outputs = await Promise.all(
      [1, 2, 3].map((seed) =>
        run(process.execPath, [
          '--import',
          'tsx',
          'test/workers/lossy-increment.ts',
          engine.endpoint,
          name,
          mode,
          '20',
          '4',
          String(seed),
        ]),
      ),
    );
    const reports = outputs.map(
      (output) => JSON.parse(output.stdout) as { told: number; conflicts: number; failures: number },
    );
    const sum = (field: 'told' | 'conflicts' | 'failures') =>
      reports.reduce((total, report) => total + report[field], 0);
    const counted = Number((await stored(name, 'counter0'))?.n ?? 0) + Number((await stored(name, 'counter1'))?.n ?? 0);
    return {
      counted,
      told: sum('told'),
      conflicts: sum('conflicts'),
      failures: sum('failures'),
      reasons: reports.flatMap((r) => (r as { reasons?: string[] }).reasons ?? []),
    };
  }

  itWhen(['transactions'])(
    'safe: the count equals the increments callers were told applied',
    async () => {
      const safe = await race('safe');
      expect(safe.failures).toBe(0);
      expect(safe.counted).toBe(safe.told);
      expect(safe.told + safe.conflicts).toBe(240);
    },
    180_000,
  );

  it('the naive twin, optimistic locking as usually written: the count exceeds what callers were told', async () => {
    const naive = await race('naive');
    expect(naive.counted).toBeGreaterThan(naive.told);
  }, 180_000);
});

describe("case 4: the SDK's retry quota runs out; racesafe resends itself", () => {
  const writes = 1560;

  async function pool(count: number, work: (i: number) => Promise<void>) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) await work(next++);
      }),
    );
  }

  itWhen(['transactions'])(
    `guardedUpdate: ${writes} increments on one client, 30% lost: none reported failed, each applied once`,
    async () => {
      const { name } = await freshTable(engine, { stream: false });
      for (let k = 0; k < 8; k++)
        await engine.client.send(new PutCommand({ TableName: name, Item: { pk: `c${k}`, n: 0 } }));
      const { client, faults } = lossy(engine.endpoint, {
        seed: 4,
        lostResponse: { commands: ['TransactWriteItems'], probability: 0.3 },
      });
      const table = defineTable({ client, name, partitionKey: 'pk' });
      let applied = 0;
      const failures: RacesafeError[] = [];
      await pool(writes, async (i) => {
        try {
          const outcome = await guardedUpdate(
            table,
            { pk: `c${i % 8}` },
            { changes: { n: increment(1) } },
            { retry: { baseMs: 1, capMs: 20 } },
          );
          if (outcome.status === 'applied') applied += 1;
        } catch (error) {
          failures.push(error as RacesafeError);
        }
      });
      let total = 0;
      for (let k = 0; k < 8; k++) total += Number((await stored(name, `c${k}`))?.n);
      // Far more losses than the SDK's quota (500 tokens, 14 per transient retry) can absorb.
      expect(faults.stats.lostResponse.injected).toBeGreaterThan(300);
      expect(failures).toEqual([]);
      expect(applied).toBe(writes);
      expect(total).toBe(writes);
    },
  );

  it(`the naive twin, create-once PutItem through the SDK alone: "failed" writes that landed`, async () => {
    const { name } = await freshTable(engine, { stream: false });
    const { client } = lossy(engine.endpoint, { seed: 4, lostResponse: { commands: ['PutItem'], probability: 0.3 } });
    const failed: number[] = [];
    let refused = 0;
    await pool(writes, async (i) => {
      try {
        await client.send(
          new PutCommand({ TableName: name, Item: { pk: `w${i}` }, ConditionExpression: 'attribute_not_exists(pk)' }),
        );
      } catch (error) {
        if (isConditionalCheckFailed(error))
          refused += 1; // the SDK's retry found its own write: "duplicate"
        else failed.push(i);
      }
    });
    let landed = 0;
    for (const i of failed) if ((await stored(name, `w${i}`)) !== undefined) landed += 1;
    expect(failed.length).toBeGreaterThan(0);
    // Every lost response is a landed write: told failed (quota spent) or refused (SDK retry), both untrue.
    expect(landed).toBe(failed.length);
    expect(refused).toBeGreaterThan(0);
  });
});
