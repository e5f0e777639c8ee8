import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { seededRandom } from '../testing/random.js';
import { shardedCounter } from './sharded-counter.js';

const engine = useEngine();

describe('shardedCounter on a real engine', () => {
  itWhen(['transactions'])(
    '400 concurrent increments over 8 shards: none lost, spread over the shards, summed by one read',
    async () => {
      const { table } = await freshTable(engine, { prefix: 'counter', stream: false });
      const views = shardedCounter(table, { pk: 'views#home' }, { shards: 8, random: seededRandom(7) });
      await Promise.all(Array.from({ length: 400 }, () => views.increment()));
      await views.increment(-10);
      expect(await views.read()).toBe(390);
      const shards = await Promise.all(
        views.shardKeys.map((Key) => table.client.send(new GetCommand({ TableName: table.name, Key }))),
      );
      expect(shards.filter((shard) => shard.Item !== undefined).length).toBeGreaterThan(4);
    },
  );

  it('a counter never incremented reads 0', async () => {
    const { table } = await freshTable(engine, { prefix: 'counter_empty', stream: false });
    expect(await shardedCounter(table, { pk: 'nothing' }).read()).toBe(0);
  });
});
