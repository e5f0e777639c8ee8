/** @module Scenario: work longer than its lease, with many duplicates waiting; heartbeats keep it to one run. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { manualClock } from '../../lease/clock.js';
import { leaseSignal } from '../../lease/heartbeat.js';
import { idempotent } from '../../lease/idempotent.js';
import { readLease } from '../../lease/lease.js';
import { defineTable } from '../../table.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { randomInt } from '../../testing/random.js';
import type { Scenario } from '../scenario.js';

const leaseMs = 300;
/**
 * How far the work moves the clock per step: under a lease, so a renewal sent after a step still covers the next one
 * (it lasts until the step's time + leaseMs); a lease that is not renewed ends within two steps.
 */
const stepMs = 240;

/**
 * A job of 3 leases of work (on the run's clock, which the work itself moves 0.8 of a lease at a time), run
 * through `idempotent()` by 4-8 duplicates at once. Safe: the holder's heartbeat renews the lease (every 5 ms of
 * real time), so the duplicates wait it out. Naive: the same call with `heartbeatMs: 0`, a lease of fixed length as
 * such locks are usually written; a duplicate takes over when it ends, and the work runs again while it still runs.
 *
 * Between two steps of the work (meanwhile it reads its input), a renewal sent after the step lands (safe) and a
 * duplicate polls, so the clock never jumps past the lease of a holder that renews, and a lease that ends is seen:
 * the run depends on the seed's schedule, not on the machine's speed.
 * Once the work has started a second time the run has shown its anomaly, and the work stops (left alone, the
 * holders would take the job from each other forever).
 */
export const longWork: Scenario = {
  name: 'long-work',
  summary:
    'Work 3x longer than its lease, with 4-8 duplicates waiting: without renewals the lease ends mid-work and a duplicate runs the job again (and again); with idempotent() heartbeats it runs once and every caller gets its result.',
  invariant: 'the work runs once, and every caller gets its result',
  requires: ['returnValuesOnConditionCheckFailure'],
  async run(context) {
    const { table: gated, name } = await context.table({ ttlAttribute: 'expiresAt' });
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'));
    const duplicates = 4 + randomInt(context.random, 5);
    const workMs = 3 * leaseMs;
    const heartbeats = context.variant === 'safe';

    // What was sent after the clock's latest step and has answered: a renewal by the holder, a poll by a waiter.
    const workers = new AsyncLocalStorage<number>();
    const holders = new Set<number>();
    const sinceStep = { step: 0, renewals: 0, polls: 0 };
    const client = {
      async send(command: unknown, ...rest: unknown[]) {
        const worker = workers.getStore();
        const step = sinceStep.step;
        const output = await (gated.client.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
        if (step === sinceStep.step && worker !== undefined) {
          if (command instanceof UpdateCommand && holders.has(worker)) sinceStep.renewals += 1;
          if (command instanceof GetCommand && !holders.has(worker)) sinceStep.polls += 1;
        }
        return output;
      },
    } as unknown as DynamoDBDocumentClient;
    const table = defineTable({ client, name, partitionKey: 'pk' });

    let runs = 0;
    const stopped = () => runs > 1;
    const render = idempotent(
      async (reportId: string) => {
        const me = workers.getStore() as number;
        const run = ++runs;
        holders.add(me);
        try {
          for (let elapsed = 0; elapsed < workMs; elapsed += stepMs) {
            if (stopped()) throw new Error('stopped: the work started a second time');
            const signal = leaseSignal();
            if (signal?.aborted) throw signal.reason;
            clock.advance(stepMs);
            Object.assign(sinceStep, { step: sinceStep.step + 1, renewals: 0, polls: 0 });
            const stepDone = () => stopped() || ((!heartbeats || sinceStep.renewals >= 1) && sinceStep.polls >= 1);
            // The work reads its input meanwhile: a request, so the scheduler sees the holder parked, not asleep.
            while (!stepDone()) {
              await context.client.send(new GetCommand({ TableName: name, Key: { pk: 'input' } }));
            }
          }
          return `${reportId} by run ${run}`;
        } finally {
          holders.delete(me);
        }
      },
      {
        table,
        key: (reportId) => `report#${reportId}`,
        leaseMs,
        clock,
        heartbeatMs: heartbeats ? 5 : 0,
        // Short real-time poll delays (the scheduler waits for sleeping workers before each pick), and patience that
        // outlasts the run: a waiter the schedule starves of polls must not give up (the tests check patience).
        poll: { firstDelayMs: 1, capMs: 4, maxWaitMs: 1_000 * leaseMs },
      },
    );

    const run = await context.race(
      Array.from(
        { length: duplicates },
        () =>
          ({ worker }: { worker: number }) =>
            workers.run(worker, () => render('2030-01')),
      ),
    );
    const anomalies: string[] = [];
    if (runs > 1) anomalies.push(`the work ran ${runs} times (expected once): the lease ended while it ran`);
    const unanswered = run.results.filter(
      (result) => !(result.status === 'fulfilled' && result.value === '2030-01 by run 1'),
    );
    const crashed = unanswered.filter((result) => result.status === 'rejected' && isSimulatedCrash(result.reason));
    if (unanswered.length > crashed.length) {
      anomalies.push(`${unanswered.length - crashed.length} of ${duplicates} callers did not get the result`);
    }
    const stored = await readLease(gated, { pk: 'report#2030-01' });
    if (runs === 1 && stored?.value !== '2030-01 by run 1') anomalies.push('the result was not stored');
    return { anomalies };
  },
};
