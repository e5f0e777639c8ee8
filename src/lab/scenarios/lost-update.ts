/** @module Scenario: concurrent read-modify-write of one document; optimistic locking keeps every edit. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { isSimulatedCrash } from '../../testing/faults.js';
import { updateWithLock } from '../../write/update-with-lock.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const workers = 4;
const editsPerWorker = 3;

export const lostUpdate: Scenario = {
  name: 'lost-update',
  summary: `${workers} workers each append ${editsPerWorker} edits to one document by read-modify-write; naive get-then-put loses edits, updateWithLock keeps all.`,
  invariant: `the document holds all ${workers * editsPerWorker} edits`,
  requires: ['transactions'],
  size: { name: 'workers', default: workers, min: 2 },
  async run(context) {
    const racing = context.size ?? workers;
    const { table, name } = await context.table();
    const key = { pk: 'doc' };
    await context.setupClient.send(new PutCommand({ TableName: name, Item: { ...key, edits: [] } }));
    const edit = async (worker: number, n: number) => {
      const id = `w${worker}e${n}`;
      if (context.variant === 'safe') {
        await updateWithLock(table, key, (doc) => ({ ...key, edits: [...((doc?.edits as string[]) ?? []), id] }), {
          maxAttempts: 50,
          backoff: { baseMs: 1, capMs: 20 },
          random: context.random,
        });
        return;
      }
      const { Item } = await context.client.send(new GetCommand({ TableName: name, Key: key, ConsistentRead: true }));
      await context.client.send(
        new PutCommand({ TableName: name, Item: { ...key, edits: [...(Item?.edits ?? []), id] } }),
      );
    };
    const run = await context.race(
      Array.from({ length: racing }, (_, worker) => async () => {
        for (let n = 0; n < editsPerWorker; n++) await edit(worker, n);
      }),
    );
    const { Item } = await context.setupClient.send(
      new GetCommand({ TableName: name, Key: key, ConsistentRead: true }),
    );
    const edits = new Set((Item?.edits as string[] | undefined) ?? []);
    const expected = racing * editsPerWorker;
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (edits.size !== expected) anomalies.push(`${expected - edits.size} of ${expected} edits lost`);
    return { anomalies };
  },
};
