import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { defineTable } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults } from '../testing/faults.js';
import { manualClock } from './clock.js';
import { acquireLease, completeLease, leaseSettings, readLease, releaseLease, renewLease } from './lease.js';
import { buildAcquireLease, buildCompleteLease } from './requests.js';

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** Runs `step` with the response of its first UpdateItem lost after DynamoDB applied it (the SDK then retries). */
async function withLostResponse<T>(client: DynamoDBDocumentClient, step: () => Promise<T>): Promise<T> {
  const faults = createFaults({ seed: 1, lostResponse: { commands: ['UpdateItem'], limit: 1 } });
  const detach = faults.attach(client);
  try {
    return await step();
  } finally {
    detach();
  }
}

describe('lease primitives on a real engine', () => {
  it('acquire, busy, complete, then acquires answer completed with the stored result', async () => {
    const { table } = await freshTable(engine, { prefix: 'lease_basic', stream: false });
    const clock = manualClock();
    const first = await acquireLease(table, { pk: 'k' }, { clock, leaseMs: 1_000 });
    expect(first).toMatchObject({ status: 'acquired', lease: { fencingToken: 1, leaseUntil: clock.now() + 1_000 } });
    if (first.status !== 'acquired') return;
    expect(await acquireLease(table, { pk: 'k' }, { clock })).toMatchObject({
      status: 'busy',
      current: { state: 'held', owner: first.lease.owner, fencingToken: 1 },
    });
    expect(await completeLease(table, first.lease, { value: { n: 1 } }, { clock, validForMs: 5_000 })).toEqual({
      status: 'completed',
    });
    expect(await acquireLease(table, { pk: 'k' }, { clock })).toMatchObject({
      status: 'completed',
      current: { state: 'completed', value: { n: 1 }, validUntil: clock.now() + 5_000 },
    });
    // Once the result expires, the key can be acquired again, with a higher fencing token.
    clock.advance(5_000);
    expect(await acquireLease(table, { pk: 'k' }, { clock })).toMatchObject({
      status: 'acquired',
      lease: { fencingToken: 2 },
    });
  });

  it('a zombie whose lease was taken over gets lost from renew, complete and release, and writes nothing', async () => {
    const { table } = await freshTable(engine, { prefix: 'lease_zombie', stream: false });
    const clock = manualClock();
    const zombie = await acquireLease(table, { pk: 'k' }, { clock, leaseMs: 1_000 });
    clock.advance(1_000);
    const newer = await acquireLease(table, { pk: 'k' }, { clock, leaseMs: 1_000 });
    if (zombie.status !== 'acquired' || newer.status !== 'acquired') throw new Error('both acquires must succeed');
    expect(newer.lease.fencingToken).toBe(2);
    const before = await readLease(table, { pk: 'k' });
    for (const attempt of [
      () => renewLease(table, zombie.lease, { clock }),
      () => completeLease(table, zombie.lease, { value: 'zombie' }, { clock }),
      () => releaseLease(table, zombie.lease, { clock }),
    ]) {
      expect(await attempt()).toMatchObject({ status: 'lost', current: { owner: newer.lease.owner, fencingToken: 2 } });
    }
    expect(await readLease(table, { pk: 'k' })).toEqual(before);
    expect(await renewLease(table, newer.lease, { clock, leaseMs: 3_000 })).toMatchObject({
      status: 'renewed',
      lease: { leaseUntil: clock.now() + 3_000 },
    });
    expect(await completeLease(table, newer.lease, { value: 'newer' }, { clock })).toEqual({ status: 'completed' });
    // Completing twice (an SDK retry after a lost response) is recognised as our own earlier write.
    expect(await completeLease(table, newer.lease, { value: 'newer' }, { clock })).toEqual({ status: 'completed' });
    expect(await completeLease(table, zombie.lease, { value: 'zombie' }, { clock })).toMatchObject({ status: 'lost' });
    expect(await readLease(table, { pk: 'k' })).toMatchObject({ state: 'completed', value: 'newer', fencingToken: 2 });
  });

  itWhen(['returnValuesOnConditionCheckFailure'])(
    'lost responses: an acquire and a completion that landed are recognised as ours; the naive classification is wrong',
    async () => {
      const { name } = await freshTable(engine, { prefix: 'lease_lost', stream: false });
      const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
      clients.push(dynamodb);
      const client = DynamoDBDocumentClient.from(dynamodb);
      const table = defineTable({ client, name, partitionKey: 'pk' });
      const clock = manualClock();
      const acquired = await withLostResponse(client, () => acquireLease(table, { pk: 'k' }, { clock }));
      expect(acquired).toMatchObject({ status: 'acquired', lease: { fencingToken: 1 } });
      if (acquired.status !== 'acquired') return;
      const renewed = await withLostResponse(client, () => renewLease(table, acquired.lease, { clock }));
      expect(renewed.status).toBe('renewed');
      const done = await withLostResponse(client, () =>
        completeLease(table, acquired.lease, { value: 'v' }, { clock }),
      );
      expect(done).toEqual({ status: 'completed' });
      expect(await readLease(table, { pk: 'k' })).toMatchObject({ state: 'completed', value: 'v', fencingToken: 1 });

      // The naive twin: the same requests, where a failed condition simply means "someone else". After a lost
      // response the acquire calls its own lease busy (the key is stuck for a lease), the completion calls itself lost.
      const settings = leaseSettings(table, { clock });
      const naive = async (request: ConstructorParameters<typeof UpdateCommand>[0]) => {
        try {
          await client.send(new UpdateCommand(request));
          return 'applied';
        } catch (error) {
          if (isConditionalCheckFailed(error)) return 'refused';
          throw error;
        }
      };
      const owner = 'naive-owner';
      const acquire = buildAcquireLease(table, { pk: 'n' }, settings, {
        owner,
        now: clock.now(),
        payloadHash: undefined,
      });
      expect(await withLostResponse(client, () => naive(acquire))).toBe('refused');
      const lease = { key: { pk: 'n' }, owner, fencingToken: 1, leaseUntil: clock.now() + settings.leaseMs };
      const complete = buildCompleteLease(
        table,
        lease,
        { value: 'v' },
        { ...settings, validForMs: 1_000 },
        clock.now(),
      );
      expect(await withLostResponse(client, () => naive(complete))).toBe('refused');
      expect(await readLease(table, { pk: 'n' })).toMatchObject({ state: 'completed', owner, value: 'v' });
    },
  );

  it('a released lease can be acquired at once; the fencing token keeps rising', async () => {
    const { table } = await freshTable(engine, { prefix: 'lease_release', stream: false });
    const clock = manualClock();
    const tokens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const outcome = await acquireLease(table, { pk: 'k' }, { clock, leaseMs: 60_000 });
      if (outcome.status !== 'acquired') throw new Error(`acquire ${i} was ${outcome.status}`);
      tokens.push(outcome.lease.fencingToken);
      expect(await releaseLease(table, outcome.lease, { clock })).toEqual({ status: 'released' });
    }
    expect(tokens).toEqual([1, 2, 3]);
  });

  it('an item that is not a lease record is a typed input error, not a lease forever busy', async () => {
    const { table } = await freshTable(engine, { prefix: 'lease_foreign', stream: false });
    await table.client.send(new PutCommand({ TableName: table.name, Item: { pk: 'k', x: 1 } }));
    await expect(acquireLease(table, { pk: 'k' })).rejects.toMatchObject({
      code: 'validation.invalidInput',
      details: { field: 'key' },
    });
  });
});
