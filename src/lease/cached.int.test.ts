import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable, type Table } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { cached } from './cached.js';
import { manualClock } from './clock.js';
import { readLease } from './lease.js';

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** A promise the test resolves by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * A fresh table on its own client, counting the GetItem responses (the cache lookups) with SDK middleware, and a
 * gate that opens once `expected` lookups have come back: a loader that waits for it proves every caller missed.
 */
async function lookupCountingTable(prefix: string, expected: number, events: OutcomeEvent[] = []) {
  const { name } = await freshTable(engine, { prefix, stream: false });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  clients.push(dynamodb);
  const allLookedUp = deferred();
  let lookups = 0;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === 'GetItemCommand' && ++lookups === expected) allLookedUp.resolve();
      return output;
    },
    { step: 'initialize', name: 'countLookups' },
  );
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const table = defineTable({ client, name, partitionKey: 'pk', observe: (event) => events.push(event) });
  return { table, allLookedUp: allLookedUp.promise };
}

/** The story's naive cache: read, on a miss call the API, write. */
async function naiveCached<T>(table: Table, key: string, loader: () => Promise<T>): Promise<T> {
  const hit = await table.client.send(new GetCommand({ TableName: table.name, Key: { pk: key } }));
  if (hit.Item !== undefined) return hit.Item.value as T;
  const value = await loader();
  await table.client.send(new PutCommand({ TableName: table.name, Item: { pk: key, value } }));
  return value;
}

describe('cached: single-flight fill on a real engine', () => {
  for (const callers of [20, 100, 500]) {
    it(`${callers} concurrent misses on one key: exactly 1 loader call, every caller gets the same value`, async () => {
      const { table, allLookedUp } = await lookupCountingTable(`cache_${callers}`, callers);
      let loads = 0;
      // The loader answers only after every caller's lookup missed, so all of them really were concurrent misses.
      const loader = async () => {
        loads += 1;
        await allLookedUp;
        return { rate: 1.08, load: loads };
      };
      // A frozen clock: however slow the shared machine is, the winner's lease cannot run out mid-test.
      const clock = manualClock();
      const values = await Promise.all(
        Array.from({ length: callers }, () => cached(table, 'rates#EUR', loader, { clock, leaseMs: 10_000 })),
      );
      expect(loads).toBe(1);
      expect(values).toEqual(Array(callers).fill({ rate: 1.08, load: 1 }));
      // Afterwards it is a plain hit.
      await expect(cached(table, 'rates#EUR', loader, { clock })).resolves.toEqual({ rate: 1.08, load: 1 });
      expect(loads).toBe(1);
    });
  }

  it("the story's naive cache (read, miss, call, write) makes N calls in the same setup", async () => {
    const callers = 20;
    const { table, allLookedUp } = await lookupCountingTable('cache_naive', callers);
    let loads = 0;
    const loader = async () => {
      loads += 1;
      await allLookedUp;
      return loads;
    };
    const values = await Promise.all(Array.from({ length: callers }, () => naiveCached(table, 'rates#EUR', loader)));
    expect(loads).toBe(callers);
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it('the winner crashes mid-load: a waiter takes over after the lease; the late completion is rejected', async () => {
    const events: OutcomeEvent[] = [];
    const { table } = await lookupCountingTable('cache_crash', Number.POSITIVE_INFINITY, events);
    const clock = manualClock();
    const options = { clock, leaseMs: 5_000, ttl: 60_000 };
    const crashedLoadStarted = deferred();
    const crashedLoad = deferred<string>();
    // The winner starts loading and then hangs, as if its Lambda had died (nothing releases its lease).
    const crashed = cached(
      table,
      'report',
      () => {
        crashedLoadStarted.resolve();
        return crashedLoad.promise;
      },
      { ...options, heartbeatMs: 0 }, // crashed: it sends no renewals
    );
    await crashedLoadStarted.promise;
    let takeovers = 0;
    const takeOver = async () => {
      takeovers += 1;
      return 'fresh';
    };
    const waiters = Array.from({ length: 5 }, () => cached(table, 'report', takeOver, options));
    clock.advance(5_000); // the crashed winner's lease ends
    expect(await Promise.all(waiters)).toEqual(['fresh', 'fresh', 'fresh', 'fresh', 'fresh']);
    expect(takeovers).toBe(1);

    // The crashed winner comes back with its late value: the fenced completion writes nothing.
    crashedLoad.resolve('late');
    await expect(crashed).resolves.toBe('fresh');
    const lost = events.filter((event) => event.op === 'completeLease' && event.status === 'lost');
    expect(lost).toHaveLength(1);
    const record = await readLease(table, { pk: 'report' });
    expect(record).toMatchObject({ state: 'completed', value: 'fresh', fencingToken: 2 });
  });

  it('stale-while-revalidate: one caller refreshes while the others get the stale value at once', async () => {
    const { table } = await lookupCountingTable('cache_swr', Number.POSITIVE_INFINITY);
    const clock = manualClock();
    const options = { clock, ttl: 1_000, staleWhileRevalidate: 60_000 };
    await cached(table, 'k', async () => 'v1', options);
    clock.advance(1_000); // stale now, still within the revalidation window
    const othersDone = deferred();
    let refreshes = 0;
    const refresh = async () => {
      refreshes += 1;
      await othersDone.promise; // the refresh finishes only after every other caller got its answer
      return 'v2';
    };
    const refreshing = Array.from({ length: 10 }, () => cached(table, 'k', refresh, options));
    const settled = await Promise.race([
      Promise.all(refreshing.map((call) => call.then((value) => ({ value })))),
      // Nine callers answer with the stale value while the tenth is held inside the loader.
      waitForAnswers(refreshing, 9).then((values) => ({ nine: values })),
    ]);
    expect(settled).toEqual({ nine: Array(9).fill('v1') });
    othersDone.resolve();
    expect((await Promise.all(refreshing)).sort()).toEqual([...Array(9).fill('v1'), 'v2']);
    expect(refreshes).toBe(1);
    await expect(cached(table, 'k', refresh, options)).resolves.toBe('v2');
  });

  it('errorTtl 0: a loader failure frees the key: the next caller loads at once, without waiting out the lease', async () => {
    const { table } = await lookupCountingTable('cache_error', Number.POSITIVE_INFINITY);
    const clock = manualClock();
    const failing = async (): Promise<string> => {
      throw new Error('upstream 503');
    };
    await expect(cached(table, 'k', failing, { clock, errorTtl: 0 })).rejects.toThrow('upstream 503');
    await expect(cached(table, 'k', async () => 'ok', { clock })).resolves.toBe('ok');
    expect(await readLease(table, { pk: 'k' })).toMatchObject({ state: 'completed', fencingToken: 2 });
  });
});

/** Resolves with the first `count` values among `calls`, in the order they answer. */
function waitForAnswers<T>(calls: readonly Promise<T>[], count: number): Promise<T[]> {
  const answers: T[] = [];
  return new Promise((resolve, reject) => {
    for (const call of calls) {
      call.then((value) => {
        answers.push(value);
        if (answers.length === count) resolve(answers);
      }, reject);
    }
  });
}
