import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { manualClock } from './clock.js';
import { acquireLease, completeLease, readLease, releaseLease, renewLease } from './lease.js';

const engine = useEngine();

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
