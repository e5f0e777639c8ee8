/** @module Scenario: concurrent cache misses on one key; single-flight fill makes one upstream call. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { cached } from '../../lease/cached.js';
import { sleep } from '../../retry/backoff.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const callers = 8;

export const cacheStampede: Scenario = {
  name: 'cache-stampede',
  summary: `${callers} concurrent callers miss the same cache key; the naive read-miss-call-write cache calls the costly upstream once per caller, cached() calls it once and gives everyone its value.`,
  invariant: 'one upstream call per key per fill, and every caller gets the same value',
  requires: ['returnValuesOnConditionCheckFailure'],
  async run(context) {
    const { table, name } = await context.table({ ttlAttribute: 'expiresAt' });
    let upstreamCalls = 0;
    const upstream = async () => {
      upstreamCalls += 1;
      await sleep(5); // the costly API
      return `rates@${context.seed}#${upstreamCalls}`;
    };
    const lookup = async (): Promise<string> => {
      if (context.variant === 'safe') return cached(table, 'rates#EUR', upstream, { ttl: 60_000, leaseMs: 10_000 });
      // The story's cache: read, on a miss call the API, write the value.
      const { Item } = await context.client.send(new GetCommand({ TableName: name, Key: { pk: 'rates#EUR' } }));
      if (Item) return String(Item.value);
      const value = await upstream();
      await context.client.send(new PutCommand({ TableName: name, Item: { pk: 'rates#EUR', value } }));
      return value;
    };
    const run = await context.race(Array.from({ length: callers }, () => lookup));
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (upstreamCalls > 1) anomalies.push(`${upstreamCalls} upstream calls for one key (expected 1)`);
    const values = new Set(run.results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    if (values.size > 1) anomalies.push(`callers got ${values.size} different values`);
    return { anomalies, upstreamCalls };
  },
};
