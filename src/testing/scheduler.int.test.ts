import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEngine } from '../../test/engine.js';
import { createScheduler, formatTrace } from './scheduler.js';
import { createTable, deleteTable, uniqueTableName } from './tables.js';

const engine = useEngine();
const TableName = uniqueTableName('scheduler');
const WORKERS = 4;

beforeAll(async () => {
  await createTable(engine.dynamodb, { name: TableName, partitionKey: 'pk' });
});
afterAll(async () => {
  await deleteTable(engine.dynamodb, TableName);
});

async function read(pk: string): Promise<{ n: number; version: number }> {
  const { Item } = await engine.client.send(new GetCommand({ TableName, Key: { pk }, ConsistentRead: true }));
  return { n: Number(Item?.n ?? 0), version: Number(Item?.version ?? 0) };
}

/** Read, add one in the client, write back: the lost update every optimistic lock exists to prevent. */
async function naiveIncrement(pk: string): Promise<void> {
  const { n } = await read(pk);
  await engine.client.send(new PutCommand({ TableName, Item: { pk, n: n + 1 } }));
}

/** The same, but the write only applies if nobody wrote since the read; a loser reads again. */
async function optimisticIncrement(pk: string): Promise<void> {
  for (;;) {
    const { n, version } = await read(pk);
    try {
      await engine.client.send(
        new PutCommand({
          TableName,
          Item: { pk, n: n + 1, version: version + 1 },
          ConditionExpression: 'attribute_not_exists(pk) OR #version = :read',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':read': version },
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** Resets the counter (outside the run, so not gated), races the workers under `seed`, and reads the result. */
async function race(seed: number, pk: string, increment: (pk: string) => Promise<void>) {
  await engine.client.send(new PutCommand({ TableName, Item: { pk, n: 0, version: 0 } }));
  const scheduler = createScheduler({ seed });
  const detach = scheduler.attach(engine.client);
  try {
    const run = await scheduler.run(Array.from({ length: WORKERS }, () => () => increment(pk)));
    expect(run.results.every((result) => result.status === 'fulfilled')).toBe(true);
    return { ...run, final: (await read(pk)).n };
  } finally {
    detach();
  }
}

describe('seeded scheduler on a real engine', () => {
  it('replays a naive increment race exactly from its seed: same trace, same final state', async () => {
    for (const seed of [1, 2, 3]) {
      const first = await race(seed, 'replay', naiveIncrement);
      const again = await race(seed, 'replay', naiveIncrement);
      expect(first.deterministic && again.deterministic).toBe(true);
      expect(first.trace).toHaveLength(2 * WORKERS);
      expect(again.trace, formatTrace(again.trace)).toEqual(first.trace);
      expect(again.final).toBe(first.final);
    }
  });

  it('gives different interleavings for different seeds', async () => {
    const traces = new Set<string>();
    for (let seed = 0; seed < 10; seed++) traces.add(formatTrace((await race(seed, 'spread', naiveIncrement)).trace));
    expect(traces.size).toBeGreaterThanOrEqual(6);
  });

  it('finds the lost update of the naive increment on most seeds, and none with the optimistic one', async () => {
    const seeds = Array.from({ length: 30 }, (_, index) => 100 + index);
    const naiveLosses: number[] = [];
    for (const seed of seeds) {
      if ((await race(seed, 'naive', naiveIncrement)).final < WORKERS) naiveLosses.push(seed);
    }
    const optimisticFinals = new Set<number>();
    for (const seed of seeds.slice(0, 10)) optimisticFinals.add((await race(seed, 'safe', optimisticIncrement)).final);
    console.info(`[scheduler] naive increment lost updates on ${naiveLosses.length} of ${seeds.length} seeds`);
    expect(naiveLosses.length).toBeGreaterThan(seeds.length / 2);
    expect([...optimisticFinals]).toEqual([WORKERS]);
  });
});
