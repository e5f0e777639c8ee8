import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import type { OutcomeEvent } from '../observe/events.js';
import { tenantScope } from '../tenant/scope.js';
import { manualClock } from './clock.js';
import { idempotent, idempotentHandler } from './idempotent.js';
import { readLease } from './lease.js';

const engine = useEngine();

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A table whose lease events are recorded, and a promise that resolves once `count` acquires have answered. */
async function observedTable(prefix: string, count = Number.POSITIVE_INFINITY) {
  const events: OutcomeEvent[] = [];
  const acquiresAnswered = deferred();
  const { table } = await freshTable(engine, {
    prefix,
    stream: false,
    observe: (event) => {
      events.push(event);
      if (events.filter((e) => e.op === 'acquireLease').length === count) acquiresAnswered.resolve();
    },
  });
  return { table, events, acquiresAnswered: acquiresAnswered.promise };
}

/** Resolves once `condition` holds, checking after each macrotask (no timed assertion: the test timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('idempotent on a real engine', () => {
  it('50 concurrent duplicates: fn runs once, all get its result; replays return it; another payload is a typed error', async () => {
    const duplicates = 50;
    const { table, events, acquiresAnswered } = await observedTable('idem_dup', duplicates);
    let runs = 0;
    const charge = idempotent(
      async (order: { id: string; cents: number }) => {
        runs += 1;
        // Finish only after every duplicate's acquire has answered: all 50 really ran at the same time.
        await acquiresAnswered;
        return { chargeId: `ch_${order.id}_${runs}`, cents: order.cents };
      },
      { table, key: (order) => `charge#${order.id}`, validatePayload: true, clock: manualClock() },
    );
    const order = { id: 'o-1', cents: 1250 };
    const results = await Promise.all(Array.from({ length: duplicates }, () => charge({ ...order })));
    expect(runs).toBe(1);
    expect(results).toEqual(Array(duplicates).fill({ chargeId: 'ch_o-1_1', cents: 1250 }));
    const acquires = events.filter((event) => event.op === 'acquireLease');
    expect(acquires.filter((event) => event.status === 'acquired')).toHaveLength(1);
    expect(acquires.filter((event) => event.status === 'busy')).toHaveLength(duplicates - 1);

    // A replay after completion: the stored result from one failed acquire (plus a consistent read without ALL_OLD).
    await expect(charge({ cents: 1250, id: 'o-1' })).resolves.toEqual({ chargeId: 'ch_o-1_1', cents: 1250 });
    expect(runs).toBe(1);
    const requests = engine.capabilities.returnValuesOnConditionCheckFailure ? 1 : 2;
    expect(events.at(-1)).toMatchObject({ op: 'acquireLease', status: 'completed', attempts: requests });

    const error = await rejection(charge({ id: 'o-1', cents: 9999 }));
    expect(error).toBeInstanceOf(RacesafeError);
    expect(error).toMatchObject({ code: 'idempotency.payloadMismatch', details: { key: { pk: 'charge#o-1' } } });
    expect(runs).toBe(1);
  });

  it('a worker paused past its lease resumes and completes: rejected, and the newer result stays', async () => {
    const { table, events } = await observedTable('idem_zombie');
    const clock = manualClock();
    const gates = [deferred<string>(), deferred<string>()];
    const started = [deferred(), deferred()];
    let calls = 0;
    const work = idempotent(
      async (_job: string) => {
        const call = calls++;
        started[call]?.resolve();
        return (gates[call] as ReturnType<typeof deferred<string>>).promise;
      },
      // Paused workers send no renewals (heartbeat.int.test.ts pauses one with its heartbeat on).
      { table, key: (job) => job, leaseMs: 1_000, clock, heartbeatMs: 0 },
    );
    // The first worker pauses (a GC pause, a frozen Lambda) past its lease; a second worker takes over.
    const first = work('job-7');
    await started[0]?.promise;
    clock.advance(1_000);
    const second = work('job-7');
    await started[1]?.promise;
    // The paused worker resumes while the second still holds the lease: its completion is refused...
    gates[0]?.resolve('by the paused worker');
    await until(() => events.some((event) => event.op === 'completeLease'));
    expect(events.filter((event) => event.op === 'completeLease').map((event) => event.status)).toEqual(['lost']);
    expect(await readLease(table, { pk: 'job-7' })).toMatchObject({ state: 'held', fencingToken: 2 });
    // ...and it then waits like any duplicate, getting the newer result.
    gates[1]?.resolve('by the second worker');
    await expect(second).resolves.toBe('by the second worker');
    await expect(first).resolves.toBe('by the second worker');
    expect(calls).toBe(2);
    expect(await readLease(table, { pk: 'job-7' })).toMatchObject({
      state: 'completed',
      value: 'by the second worker',
      fencingToken: 2,
    });
  });

  it("onInProgress 'fail': a duplicate during the first call throws lease.inProgress at once", async () => {
    const { table } = await observedTable('idem_fail');
    const release = deferred<number>();
    const started = deferred();
    const slow = idempotent(
      async () => {
        started.resolve();
        return release.promise;
      },
      { table, key: () => 'k', onInProgress: 'fail', clock: manualClock() },
    );
    const first = slow();
    await started.promise;
    expect(await rejection(slow())).toMatchObject({ code: 'lease.inProgress', details: { key: { pk: 'k' } } });
    release.resolve(7);
    await expect(first).resolves.toBe(7);
    await expect(slow()).resolves.toBe(7);
  });

  it("errors: 'release' lets the next call run fn again; 'store' replays the failure as a typed error", async () => {
    const { table } = await observedTable('idem_errors');
    let runs = 0;
    const flaky = async () => {
      runs += 1;
      if (runs === 1) throw new TypeError('first try fails');
      return 'second try';
    };
    const released = idempotent(flaky, { table, key: () => 'released' });
    await expect(released()).rejects.toThrow('first try fails');
    await expect(released()).resolves.toBe('second try');
    expect(runs).toBe(2);

    runs = 0;
    const stored = idempotent(flaky, { table, key: () => 'stored', onError: 'store' });
    await expect(stored()).rejects.toThrow('first try fails');
    const replayed = await rejection(stored());
    expect(replayed).toMatchObject({
      code: 'idempotency.storedError',
      details: { name: 'TypeError', message: 'first try fails' },
    });
    expect(runs).toBe(1);
  });

  it('Lambda wrapper: the lease follows context.getRemainingTimeInMillis() unless leaseMs overrides it', async () => {
    const { table } = await observedTable('idem_lambda');
    const clock = manualClock();
    const context = { getRemainingTimeInMillis: () => 12_345, awsRequestId: 'r-1' } as Context;
    const inside: Array<number | undefined> = [];
    const handler = idempotentHandler(
      async (event: { id: string }) => {
        inside.push((await readLease(table, { pk: event.id }))?.leaseUntil);
        return { statusCode: 200, body: event.id };
      },
      { table, key: (event) => event.id, clock },
    );
    await expect(handler({ id: 'evt-1' }, context)).resolves.toEqual({ statusCode: 200, body: 'evt-1' });
    await expect(handler({ id: 'evt-1' }, context)).resolves.toEqual({ statusCode: 200, body: 'evt-1' });
    const overridden = idempotentHandler(
      async (event: { id: string }) => {
        inside.push((await readLease(table, { pk: event.id }))?.leaseUntil);
        return event.id;
      },
      { table, key: (event) => event.id, clock, leaseMs: (lambda) => lambda.getRemainingTimeInMillis() - 2_345 },
    );
    await overridden({ id: 'evt-2' }, context);
    expect(inside).toEqual([clock.now() + 12_345, clock.now() + 10_000]);
  });

  it("Lambda wrapper: the key function gets the context, so a tenant id keeps two tenants' events apart", async () => {
    const { table } = await observedTable('idem_tenant');
    const clock = manualClock();
    let runs = 0;
    const handler = idempotentHandler(
      async (event: { id: string }, context: Context) => {
        runs += 1;
        return `${context.tenantId}:${event.id}`;
      },
      { table, key: (event, context) => `${context.tenantId}#${event.id}`, clock },
    );
    const contextOf = (tenantId: string) =>
      ({ getRemainingTimeInMillis: () => 10_000, awsRequestId: 'r', tenantId }) as Context;
    await expect(handler({ id: 'evt-1' }, contextOf('acme'))).resolves.toBe('acme:evt-1');
    await expect(handler({ id: 'evt-1' }, contextOf('globex'))).resolves.toBe('globex:evt-1');
    await expect(handler({ id: 'evt-1' }, contextOf('acme'))).resolves.toBe('acme:evt-1');
    expect(runs).toBe(2);
    // With context.tenantId the records are tenant-scoped as well (racesafe/tenant): stored under TENANT#globex#.
    expect(await readLease(tenantScope(table, 'globex'), { pk: 'globex#evt-1' })).toMatchObject({
      state: 'completed',
      value: 'globex:evt-1',
    });
    expect(await readLease(table, { pk: 'globex#evt-1' })).toBeUndefined();
  });
});
