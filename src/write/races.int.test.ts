import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { decrement } from '../expression/update.js';
import type { Table } from '../table.js';
import { readCommitLog, versionRegressions } from '../testing/commit-log.js';
import { seededRandom, shuffled } from '../testing/random.js';
import { guardedUpdate } from './guarded-update.js';
import { putIfNewer } from './put-if-newer.js';

const engine = useEngine();
const run = promisify(execFile);

/** Runs `count` async workers that pull tasks from one shared queue. */
async function pool<T>(tasks: readonly T[], count: number, work: (task: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (next < tasks.length) await work(tasks[next++] as T);
    }),
  );
}

/** What a Lambda's processing between read and write looks like to a race: a pause of 0-2 ms. */
const think = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));

describe('races on DynamoDB Local, each against its naive twin', () => {
  // 50 keys x 20 versions, shuffled, ~30% delivered twice: what concurrent, retried stream consumers see.
  const deliveries = (() => {
    const random = seededRandom(2024);
    const events = [];
    for (let key = 0; key < 50; key++) {
      for (let version = 1; version <= 20; version++) {
        events.push({ pk: `k${key}`, version, payload: `k${key}@${version}` });
        if (random() < 0.3) events.push({ pk: `k${key}`, version, payload: `k${key}@${version}` });
      }
    }
    return shuffled(random, events);
  })();

  async function finalVersions(table: Table) {
    const versions = new Map<string, number>();
    for (let key = 0; key < 50; key++) {
      const got = await engine.client.send(
        new GetCommand({ TableName: table.name, Key: { pk: `k${key}` }, ConsistentRead: true }),
      );
      versions.set(`k${key}`, Number(got.Item?.version));
    }
    return versions;
  }

  itWhen(['streams'])(
    'putIfNewer: 50 workers, shuffled versions with duplicates: no regression on the stream',
    async () => {
      const safe = await freshTable(engine, { prefix: 'race_put_safe' });
      await pool(deliveries, 50, async (event) => {
        await think();
        await putIfNewer(safe.table, event);
      });
      expect([...(await finalVersions(safe.table)).values()].every((v) => v === 20)).toBe(true);
      const safeLog = await readCommitLog(engine.streams, safe.streamArn as string);
      expect(versionRegressions(safeLog)).toEqual([]);
      // One stream record per applied version at most: duplicates and stale versions wrote nothing.
      expect(safeLog.length).toBeLessThanOrEqual(50 * 20);

      const naive = await freshTable(engine, { prefix: 'race_put_naive' });
      await pool(deliveries, 50, async (event) => {
        const stored = await engine.client.send(
          new GetCommand({ TableName: naive.name, Key: { pk: event.pk }, ConsistentRead: true }),
        );
        await think();
        if (stored.Item === undefined || Number(stored.Item.version) < event.version) {
          await engine.client.send(new PutCommand({ TableName: naive.name, Item: event }));
        }
      });
      const naiveLog = await readCommitLog(engine.streams, naive.streamArn as string);
      expect(versionRegressions(naiveLog).length).toBeGreaterThan(0);
    },
  );

  it('putIfNewer: every key ends at its highest version (final state, any engine)', async () => {
    const { table } = await freshTable(engine, { prefix: 'race_put_final', stream: false });
    await pool(deliveries, 50, (event) => putIfNewer(table, event).then(() => undefined));
    expect([...(await finalVersions(table)).values()]).toEqual(new Array(50).fill(20));
  });

  itWhen(['transactions'])(
    'updateWithLock: 2 processes x 20 workers, 400 increments of one item, none lost',
    async () => {
      const worker = 'test/workers/increment.ts';
      const race = async (mode: 'safe' | 'naive') => {
        const { name } = await freshTable(engine, { prefix: `race_lock_${mode}`, stream: false });
        const args = ['--import', 'tsx', worker, engine.endpoint, name, mode, '20', '10'];
        const outputs = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
        const reports = outputs.map((output) => JSON.parse(output.stdout) as { increments: number; attempts: number });
        const stored = await engine.client.send(
          new GetCommand({ TableName: name, Key: { pk: 'counter' }, ConsistentRead: true }),
        );
        return {
          count: Number(stored.Item?.count),
          increments: reports.reduce((sum, report) => sum + report.increments, 0),
        };
      };
      const safe = await race('safe');
      expect(safe.increments).toBe(400);
      expect(safe.count).toBe(400);
      const naive = await race('naive');
      expect(naive.increments).toBe(400);
      expect(naive.count).toBeLessThan(400);
    },
  );

  itWhen(['transactions'])(
    'guardedUpdate: 12 concurrent orders against a stock of 10: 10 applied, 2 rejected, final 0',
    async () => {
      const { table, name } = await freshTable(engine, { prefix: 'race_stock', stream: false });
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'sku', quantity: 10 } }));
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () =>
          guardedUpdate(
            table,
            { pk: 'sku' },
            { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } },
          ),
        ),
      );
      const count = (status: string) => outcomes.filter((outcome) => outcome.status === status).length;
      expect([count('applied'), count('rejected')]).toEqual([10, 2]);
      const stored = await engine.client.send(
        new GetCommand({ TableName: name, Key: { pk: 'sku' }, ConsistentRead: true }),
      );
      expect(stored.Item?.quantity).toBe(0);

      // The naive twin: read, check, write. Every order "succeeds" and the stock does not add up.
      await engine.client.send(new PutCommand({ TableName: name, Item: { pk: 'naive', quantity: 10 } }));
      let sold = 0;
      await Promise.all(
        Array.from({ length: 12 }, async () => {
          const got = await engine.client.send(
            new GetCommand({ TableName: name, Key: { pk: 'naive' }, ConsistentRead: true }),
          );
          const quantity = Number(got.Item?.quantity);
          await think();
          if (quantity >= 1) {
            await engine.client.send(
              new PutCommand({ TableName: name, Item: { pk: 'naive', quantity: quantity - 1 } }),
            );
            sold += 1;
          }
        }),
      );
      const naive = await engine.client.send(
        new GetCommand({ TableName: name, Key: { pk: 'naive' }, ConsistentRead: true }),
      );
      expect(sold + Number(naive.Item?.quantity)).toBeGreaterThan(10);
    },
  );
});
