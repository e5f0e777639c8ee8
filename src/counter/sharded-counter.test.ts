import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { defineTable } from '../table.js';
import { buildShardIncrement, buildShardRead, shardedCounter } from './sharded-counter.js';

const client = {
  send: () => Promise.reject(new Error('no requests in unit tests')),
} as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'counters', partitionKey: 'pk', sortKey: 'sk' });

describe('shardedCounter requests', () => {
  it('spreads shards over partition keys and keeps the sort key', () => {
    const counter = shardedCounter(table, { pk: 'views', sk: 'home' }, { shards: 3 });
    expect(counter.shardKeys).toEqual([
      { pk: 'views#shard-0', sk: 'home' },
      { pk: 'views#shard-1', sk: 'home' },
      { pk: 'views#shard-2', sk: 'home' },
    ]);
  });

  it('increments with one ADD and reads every shard in one BatchGet, names as placeholders', () => {
    expect(buildShardIncrement(table, { pk: 'a#shard-0', sk: 's' }, 'count', 5)).toEqual({
      TableName: 'counters',
      Key: { pk: 'a#shard-0', sk: 's' },
      UpdateExpression: 'ADD #n0 :v0',
      ExpressionAttributeNames: { '#n0': 'count' },
      ExpressionAttributeValues: { ':v0': 5 },
    });
    const keys = [{ pk: 'a#shard-0', sk: 's' }];
    expect(buildShardRead(table, keys, 'count', true).RequestItems?.counters).toEqual({
      Keys: keys,
      ProjectionExpression: '#n0',
      ExpressionAttributeNames: { '#n0': 'count' },
      ConsistentRead: true,
    });
  });

  it('validates shards, the attribute and the key before any request', async () => {
    const key = { pk: 'views', sk: 'home' };
    expect(() => shardedCounter(table, key, { shards: 101 })).toThrow(/shards/);
    expect(() => shardedCounter(table, key, { shards: 0 })).toThrow(/shards/);
    expect(() => shardedCounter(table, key, { attribute: 'pk' })).toThrow(/attribute/);
    expect(() => shardedCounter(table, key, { shard: 2 } as never)).toThrow(/shardedCounter.shard/);
    expect(() => shardedCounter(table, { pk: 7, sk: 'home' })).toThrow(/key.pk: must be a string/);
    await expect(shardedCounter(table, key).increment(Number.NaN)).rejects.toThrow(/finite/);
  });
});
