import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { cached } from './cached.js';
import { type ManualClock, manualClock } from './clock.js';
import { leaseSignal } from './heartbeat.js';
import { idempotent } from './idempotent.js';
import { readLease } from './lease.js';

// Work longer than its lease (issue 11, cases 5 and 6: leaseMs 300, work 1,500 ms and more, 2 to 50 callers), on a
// manual clock that the work itself moves, so that no outcome depends on how loaded the machine is. Every naive twin
// is the same call with `heartbeatMs: 0` (no renewals: what racesafe did before) or `errorTtl: 0` (no negative
// caching), so each test shows what the heartbeat (or the negative cache) buys. Assertions count runs, outcomes and
// stored records, never time. Both clocks are covered: heartbeat-realtime.int.test.ts runs the same sizes on the real
// clock (work that sleeps 1.5 s and 6 s under a 300 ms lease, renewed through DynamoDB Local in real time).

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Resolves once `condition` holds, checking after each macrotask (the test timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** Which caller (0, 1, ...) a request or a run of the work belongs to: it follows each call's async context. */
const callerIds = new AsyncLocalStorage<number>();

/**
 * A race of `callers` calls of work that spans `workMs` of a manual clock, deterministic however loaded the machine:
 * the work moves the clock a third of a lease at a time, and before each next step waits until (with heartbeats)
 * two renewals have landed since the step, so one was sent after it, and every waiting caller has polled since it.
 * Without heartbeats, a waiter then finds the lease ended and takes over: the work runs a second time while the
 * first still runs, and the test stops both there (left alone, they take over from each other forever).
 */
function steppedWork(options: {
  readonly clock: ManualClock;
  readonly events: readonly OutcomeEvent[];
  readonly polls: Map<number, number>;
  readonly leaseMs: number;
  readonly workMs: number;
  readonly heartbeats: boolean;
}) {
  const { clock, events, polls, leaseMs, workMs, heartbeats } = options;
  const started = new Set<number>();
  const settled = new Set<number>();
  const holders = new Set<number>();
  const counter = { runs: 0 };
  const renewals = () => events.filter((event) => event.op === 'renewLease' && event.status === 'renewed').length;
  const stopped = () => counter.runs > 1;
  const work = async (id: string): Promise<string> => {
    const me = callerIds.getStore() as number;
    const run = ++counter.runs;
    holders.add(me);
    try {
      const signal = leaseSignal();
      for (let elapsed = 0; elapsed < workMs; elapsed += leaseMs / 3) {
        if (stopped()) throw new Error('stopped by the test: the work ran twice');
        if (signal?.aborted) throw signal.reason;
        const renewedBefore = renewals();
        const polledBefore = new Map(polls);
        clock.advance(leaseMs / 3);
        const waiting = () => [...started].filter((caller) => !settled.has(caller) && !holders.has(caller));
        await until(
          () =>
            stopped() ||
            ((!heartbeats || renewals() >= renewedBefore + 2) &&
              waiting().every((caller) => (polls.get(caller) ?? 0) > (polledBefore.get(caller) ?? 0))),
        );
      }
      return `${id} by run ${run}`;
    } finally {
      holders.delete(me);
    }
  };
  /** Starts `count` calls at once, each with its caller id. */
  const race = <T>(count: number, call: () => Promise<T>) =>
    Promise.allSettled(
      Array.from({ length: count }, (_, caller) => {
        started.add(caller);
        return callerIds.run(caller, call).finally(() => settled.add(caller));
      }),
    );
  return { work, counter, race };
}

const leaseMs = 300;

describe('idempotent: fn longer than its lease', () => {
  for (const { factor, callers } of [
    { factor: 5, callers: 2 },
    { factor: 5, callers: 30 },
    { factor: 20, callers: 2 },
    { factor: 20, callers: 30 },
  ]) {
    it(`fn ${factor}x leaseMs, ${callers} callers: fn runs once and every call returns its result; without heartbeats it runs again`, async () => {
      for (const heartbeats of [true, false]) {
        const { table, events, polls } = await freezableTable(`hb_${factor}_${callers}_${heartbeats}`);
        const clock = manualClock();
        const stepped = steppedWork({ clock, events, polls, leaseMs, workMs: factor * leaseMs, heartbeats });
        const job = idempotent(stepped.work, {
          table,
          key: (id) => id,
          leaseMs,
          clock,
          ...(heartbeats ? { heartbeatMs: 5 } : { heartbeatMs: 0 }),
        });
        const results = await stepped.race(callers, () => job('job-1'));
        const answers = results.map((result) => (result.status === 'fulfilled' ? result.value : String(result.reason)));
        if (heartbeats) {
          expect(stepped.counter.runs).toBe(1);
          expect(answers).toEqual(Array(callers).fill('job-1 by run 1'));
          expect(await readLease(table, { pk: 'job-1' })).toMatchObject({
            state: 'completed',
            value: 'job-1 by run 1',
          });
          const renewed = events.filter((event) => event.op === 'renewLease');
          expect(renewed.length).toBeGreaterThanOrEqual(2 * 3 * factor);
          expect(renewed.every((event) => event.status === 'renewed')).toBe(true);
        } else {
          // The naive twin: the lease ended while fn ran; a waiter took over and ran it again.
          expect(stepped.counter.runs).toBeGreaterThanOrEqual(2);
          expect(answers.filter((answer) => answer === 'job-1 by run 1')).toHaveLength(0);
        }
      }
    });
  }

  it('a killed holder (no renewals, never returns) is replaced after one lease; its late renewal is refused', async () => {
    const { events, frozen, table, thaw } = await freezableTable('hb_killed');
    const clock = manualClock();
    const killedStarted = deferred();
    const killed = idempotent(
      async () => {
        killedStarted.resolve();
        frozen.value = true; // from here on, nothing the killed holder sends reaches DynamoDB
        return new Promise<string>(() => undefined);
      },
      { table, key: () => 'job', leaseMs: 1_000, heartbeatMs: 10, clock },
    );
    void killed();
    await killedStarted.promise;
    await until(() => thaw.pending > 0); // its heartbeat has tried to renew, and hangs
    let runs = 0;
    const replacement = idempotent(
      async () => {
        runs += 1;
        return 'by the replacement';
      },
      { table, key: () => 'job', leaseMs: 1_000, clock },
    );
    const waiting = replacement();
    clock.advance(1_000); // one lease after the killed holder's acquire
    await expect(waiting).resolves.toBe('by the replacement');
    expect(runs).toBe(1);
    expect(await readLease(table, { pk: 'job' })).toMatchObject({ state: 'completed', fencingToken: 2 });
    // The killed holder's renewal reaches DynamoDB late: refused by the fence, nothing written.
    thaw.release();
    await until(() => events.some((event) => event.op === 'renewLease'));
    expect(events.filter((event) => event.op === 'renewLease').map((event) => event.status)).toEqual(['lost']);
    expect(await readLease(table, { pk: 'job' })).toMatchObject({ value: 'by the replacement', fencingToken: 2 });
  });

  it('a paused holder (no renewals) is refused: its signal aborts, its result is not stored, it returns the newer one', async () => {
    const { events, frozen, table, thaw } = await freezableTable('hb_paused');
    const clock = manualClock();
    const resume = deferred();
    const started = deferred();
    let abortedWith: unknown;
    let runs = 0;
    const job = idempotent(
      async () => {
        runs += 1;
        if (runs === 1) {
          started.resolve();
          frozen.value = true; // the pause: a frozen process sends nothing
          await resume.promise;
          abortedWith = leaseSignal()?.reason;
          return 'by the paused holder'; // it ignores the signal: the fence still refuses its result
        }
        return 'by the second holder';
      },
      { table, key: () => 'job', leaseMs: 1_000, heartbeatMs: 10, clock },
    );
    const paused = job();
    await started.promise;
    await until(() => thaw.pending > 0);
    clock.advance(1_000);
    await expect(job()).resolves.toBe('by the second holder');
    // The pause ends: the hung renewal lands (refused), the signal aborts, the completion is refused.
    thaw.release();
    await until(() => events.some((event) => event.op === 'renewLease'));
    resume.resolve();
    await expect(paused).resolves.toBe('by the second holder');
    expect(abortedWith).toBeInstanceOf(RacesafeError);
    expect(abortedWith).toMatchObject({ code: 'lease.lost', details: { fencingToken: 1 } });
    expect(events.filter((event) => event.op === 'renewLease').map((event) => event.status)).toContain('lost');
    expect(events.filter((event) => event.op === 'renewLease').map((event) => event.status)).not.toContain('renewed');
    expect(events.some((event) => event.op === 'completeLease' && event.status === 'completed')).toBe(true);
    expect(await readLease(table, { pk: 'job' })).toMatchObject({
      state: 'completed',
      value: 'by the second holder',
      fencingToken: 2,
    });
    expect(runs).toBe(2);
  });
});

describe('cached: a loader longer than its lease, and a loader that fails', () => {
  it('50 callers, a loader 5x the lease: 1 loader call, every caller gets the value; without heartbeats it loads again', async () => {
    const callers = 50;
    for (const heartbeats of [true, false]) {
      const { table, events, polls } = await freezableTable(`hb_cache_slow_${heartbeats}`);
      const clock = manualClock();
      const stepped = steppedWork({ clock, events, polls, leaseMs, workMs: 5 * leaseMs, heartbeats });
      const options = { clock, leaseMs, ttl: 60_000, heartbeatMs: heartbeats ? 5 : 0 };
      const results = await stepped.race(callers, () => cached(table, 'slow', () => stepped.work('rates'), options));
      const answers = results.map((result) => (result.status === 'fulfilled' ? result.value : String(result.reason)));
      if (heartbeats) {
        expect(stepped.counter.runs).toBe(1);
        expect(answers).toEqual(Array(callers).fill('rates by run 1'));
        expect(await readLease(table, { pk: 'slow' })).toMatchObject({ state: 'completed', value: 'rates by run 1' });
      } else {
        expect(stepped.counter.runs).toBeGreaterThanOrEqual(2);
        expect(answers.filter((answer) => answer === 'rates by run 1')).toHaveLength(0);
      }
    }
  });

  it('50 callers, a loader that always fails: 1 loader call, every caller gets its error; errorTtl 0 calls it per caller', async () => {
    const callers = 50;
    const { table, lookups } = await freezableTable('hb_cache_fail');
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls += 1;
      // Fail only once every caller's lookup has missed: they really are this fill's waiters.
      await until(() => lookups.count >= callers);
      throw new Error('upstream 503');
    };
    const clock = manualClock();
    const outcomes = await Promise.allSettled(
      Array.from({ length: callers }, () => cached(table, 'fails', failing, { clock, leaseMs: 10_000 })),
    );
    expect(calls).toBe(1);
    const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : undefined));
    expect(reasons.filter((reason) => reason instanceof Error && reason.message === 'upstream 503')).toHaveLength(1);
    const cachedFailures = reasons.filter((reason) => reason instanceof RacesafeError);
    expect(cachedFailures).toHaveLength(callers - 1);
    expect(cachedFailures[0]).toMatchObject({ code: 'cache.loaderFailed', details: { message: 'upstream 503' } });
    // Within errorTtl a new caller gets the cached failure too; after it, the loader is called again.
    await expect(cached(table, 'fails', failing, { clock })).rejects.toMatchObject({ code: 'cache.loaderFailed' });
    expect(calls).toBe(1);
    clock.advance(1_000);
    await expect(cached(table, 'fails', async () => 'recovered', { clock })).resolves.toBe('recovered');

    // The naive twin: no negative cache. Each waiter, finding the key free again, calls the loader itself.
    const naiveTable = await freezableTable('hb_cache_fail_naive');
    let naiveCalls = 0;
    const naiveFailing = async (): Promise<string> => {
      naiveCalls += 1;
      await until(() => naiveTable.lookups.count >= callers);
      throw new Error('upstream 503');
    };
    await Promise.allSettled(
      Array.from({ length: callers }, () =>
        cached(naiveTable.table, 'fails', naiveFailing, { clock, leaseMs: 10_000, errorTtl: 0 }),
      ),
    );
    expect(naiveCalls).toBe(callers);
  });
});

/**
 * A table on its own client whose next request hangs, once `frozen.value` is set, until `thaw.release()`: a holder
 * that was killed or paused sends nothing that lands. Every outcome event is recorded, and GetItem responses counted.
 */
async function freezableTable(prefix: string) {
  const { name } = await freshTable(engine, { prefix, stream: false });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  clients.push(dynamodb);
  const frozen = { value: false };
  const gate = deferred();
  const thaw = { pending: 0, release: () => gate.resolve() };
  const lookups = { count: 0 };
  const polls = new Map<number, number>();
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (frozen.value) {
        // Only the frozen holder sends while the flag is set (its heartbeat's renewal, one at a time): it hangs.
        frozen.value = false;
        thaw.pending += 1;
        await gate.promise;
      }
      const output = await next(args);
      if (context.commandName === 'GetItemCommand') {
        lookups.count += 1;
        const caller = callerIds.getStore();
        if (caller !== undefined) polls.set(caller, (polls.get(caller) ?? 0) + 1);
      }
      return output;
    },
    { step: 'initialize', name: 'freeze' },
  );
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const events: OutcomeEvent[] = [];
  const table = defineTable({ client, name, partitionKey: 'pk', observe: (event) => events.push(event) });
  return { table, events, frozen, thaw, lookups, polls };
}
