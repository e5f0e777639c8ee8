import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWhen, freshTable, useEngine } from '../../test/engine.js';
import type { OutcomeEvent } from '../observe/events.js';
import { defineTable } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { cached } from './cached.js';
import { idempotent } from './idempotent.js';
import { readLease } from './lease.js';

// Issue 11, cases 5 and 6, on the real clock (no `clock` option), at the sizes: leaseMs 300, work that sleeps
// for real 5x and 20x its lease, 2 and 30 callers 50 ms apart (50 at once for `cached`), while the heartbeat renews
// the lease through DynamoDB Local at its default interval (a third of the lease). The manual-clock tests in
// heartbeat.int.test.ts show the same outcomes whatever the engine's latency; these show them in real time. Each
// naive twin is the same call with `heartbeatMs: 0` (no renewals: what racesafe did before); it livelocks, so the
// test stops it two leases after the work would have ended and counts what it did by then. A 300 ms lease leaves a
// renewal 200 ms to land, which DynamoDB Local on two busy cores does not always do: every holder step is timed
// (lateSteps), and where one landed too late (a take-over is then the design) the test checks only that all callers
// got the one stored result, and says so in its report. Failure messages carry the latencies seen.

const engine = useEngine();
const clients: DynamoDBClient[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** The lease: renewals every 100 ms (the default third) have 200 ms to land. */
const leaseMs = 300;

/** Every request's latency, in ms, by command name. */
type Latencies = Map<string, number[]>;

/** An outcome event with when its answer came (performance.now()): it was sent `latencyMs` before that. */
type TimedEvent = OutcomeEvent & { readonly answeredAt: number };

/**
 * The holder's steps that came too late to keep its lease: each successful acquire, renewal and completion must be
 * answered before the lease granted by the previous one (sent at `answeredAt - latencyMs`) ends, with `marginMs` to
 * spare for the clock read just before sending. A lease that ran out is taken over by design, so where a step was late
 * the test cannot ask for one run; it then asks only that every caller got the one stored result. Each take-over of
 * a holder shows here too: the new holder's acquire can only land after the old lease ended.
 */
function lateSteps(events: readonly TimedEvent[], lease: number, marginMs = 20): number[] {
  const steps = events
    .filter(
      (event) =>
        (event.op === 'acquireLease' && event.status === 'acquired') ||
        (event.op === 'renewLease' && event.status === 'renewed') ||
        (event.op === 'completeLease' && event.status === 'completed'),
    )
    .sort((a, b) => a.answeredAt - b.answeredAt);
  const late: number[] = [];
  for (let i = 1; i < steps.length; i++) {
    const previous = steps[i - 1] as TimedEvent;
    const step = steps[i] as TimedEvent;
    const after = step.answeredAt - (previous.answeredAt - previous.latencyMs);
    if (after > lease - marginMs) late.push(Math.round(after));
  }
  return late;
}

/** A fresh table on its own client that times every request and records every outcome event. */
async function timedTable(prefix: string) {
  const { name } = await freshTable(engine, { prefix, stream: false });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  clients.push(dynamodb);
  const latencies: Latencies = new Map();
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        const command = String(context.commandName).replace(/Command$/, '');
        const seen = latencies.get(command) ?? [];
        seen.push(performance.now() - started);
        latencies.set(command, seen);
      }
    },
    { step: 'initialize', name: 'time' },
  );
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const events: TimedEvent[] = [];
  const observe = (event: OutcomeEvent) => events.push({ ...event, answeredAt: performance.now() });
  const table = defineTable({ client, name, partitionKey: 'pk', observe });
  return { table, events, latencies };
}

/** `UpdateItem n=120 p50=4 p99=31 max=48 | GetItem ...`: what a failure message (or RACESAFE_LATENCIES=1) shows. */
function describeLatencies(latencies: Latencies): string {
  return [...latencies]
    .map(([command, all]) => {
      const sorted = [...all].sort((a, b) => a - b);
      const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
      return `${command} n=${sorted.length} p50=${at(0.5)} p99=${at(0.99)} max=${at(1)}`;
    })
    .join(' | ');
}

/** What a race of callers did by the time it ended (or was stopped). */
interface RaceReport {
  /** Runs of the work started before the stop. */
  readonly runs: number;
  /** Each caller's answer: its value, or the code or message of what it threw. */
  readonly answers: readonly string[];
  readonly elapsedMs: number;
  /** The record's state and value once the race ended. */
  readonly stored: { readonly state: string | undefined; readonly value: unknown };
  readonly renewals: { readonly renewed: number; readonly lost: number };
  readonly latencies: string;
  /** Holder steps answered too late to keep the lease, as ms after the previous step was sent (see lateSteps). */
  readonly late: readonly number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `callers` calls, `staggerMs` apart, of work that sleeps `workMs`, and waits for all of them. With `stopAtMs`
 * (for the naive twins, which never end by themselves) the work then stops: a run in progress throws, a new one
 * throws at once without counting, so every caller settles soon after.
 */
async function race(options: {
  readonly prefix: string;
  readonly workMs: number;
  readonly leaseMs: number;
  readonly callers: number;
  readonly staggerMs: number;
  /** The record's partition key. */
  readonly key: string;
  readonly heartbeats: boolean;
  readonly stopAtMs?: number;
  readonly call: (
    table: Awaited<ReturnType<typeof timedTable>>['table'],
    work: () => Promise<string>,
    heartbeatMs: { heartbeatMs?: number },
  ) => Promise<string>;
}): Promise<RaceReport> {
  const { table, events, latencies } = await timedTable(options.prefix);
  let runs = 0;
  let stopped = false;
  let stop = () => {};
  const stopping = new Promise<void>((resolve) => {
    stop = () => {
      stopped = true;
      resolve();
    };
  });
  const work = async (): Promise<string> => {
    if (stopped) throw new Error('stopped by the test');
    const run = ++runs;
    // The work ignores the lease's signal: whether it runs once must not depend on it giving up.
    await Promise.race([sleep(options.workMs), stopping]);
    if (stopped) throw new Error('stopped by the test');
    return `by run ${run}`;
  };
  const heartbeatMs = options.heartbeats ? {} : { heartbeatMs: 0 };
  const started = performance.now();
  const timer = options.stopAtMs === undefined ? undefined : setTimeout(stop, options.stopAtMs);
  const outcomes = await Promise.allSettled(
    Array.from({ length: options.callers }, async (_, caller) => {
      await sleep(caller * options.staggerMs);
      return options.call(table, work, heartbeatMs);
    }),
  );
  const elapsedMs = Math.round(performance.now() - started);
  clearTimeout(timer);
  stop();
  const answers = outcomes.map((outcome) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    const reason = outcome.reason as { code?: string; message?: string };
    return reason.code ?? reason.message ?? String(reason);
  });
  const renewalsWith = (status: string) =>
    events.filter((event) => event.op === 'renewLease' && event.status === status).length;
  const record = await readLease(table, { pk: options.key });
  const report = {
    runs,
    answers,
    elapsedMs,
    stored: { state: record?.state, value: record?.value },
    renewals: { renewed: renewalsWith('renewed'), lost: renewalsWith('lost') },
    latencies: describeLatencies(latencies),
    late: lateSteps(events, options.leaseMs),
  };
  if (process.env.RACESAFE_LATENCIES) console.info(options.prefix, why(report));
  return report;
}

/** How many answers are `value`; how many callers got a result at all. */
function tally(report: RaceReport, value: string) {
  return { runs: report.runs, returned: report.answers.filter((answer) => answer === value).length };
}

/** How many callers gave each answer. */
function countsOf(answers: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[answer] = (counts[answer] ?? 0) + 1;
  return counts;
}

/** A failure message that carries what the engine did, so a flake in CI shows whether a renewal was slow. */
const why = (report: RaceReport) =>
  `runs=${report.runs} late=${JSON.stringify(report.late)} elapsed=${report.elapsedMs}ms renewals=${JSON.stringify(report.renewals)} answers=${JSON.stringify(countsOf(report.answers))} latencies: ${report.latencies}`;

/**
 * Opt-in (RACESAFE_REALTIME=1), on DynamoDB Local only, and best run alone: with other test files loading the same two
 * cores, DynamoDB Local answered renewals in 0.5-1.5 s, a 300 ms lease could not be kept, fn ran up to 66 times
 * before the callers converged, and the file took 94 s (measured). Run it as its own step:
 * `RACESAFE_REALTIME=1 npx vitest run --project dynamodb-local src/lease/heartbeat-realtime.int.test.ts`.
 */
const onDynamoDBLocal = describeWhen(
  inject('engine').name === 'dynamodb-local' && process.env.RACESAFE_REALTIME === '1',
  'real-time at a 300 ms lease: opt-in with RACESAFE_REALTIME=1, on DynamoDB Local, best alone',
);

/** Adds a note to the test's report (vitest's `annotate`). */
type Annotate = (message: string) => Promise<unknown>;

/**
 * What the safe twin must show: one run, every caller its result, stored, renewed throughout and never lost, when
 * every step of the holder landed within its lease. When one did not (the engine answered later than the lease
 * allows: measured, see lateSteps), a take-over is the design, so the test asks less and says so in its report:
 * every caller still returned, all with the one stored result (no livelock).
 */
async function expectRanOnce(safe: RaceReport, callers: number, workMs: number, lease: number, annotate: Annotate) {
  if (safe.late.length > 0) {
    await annotate(`a renewal came too late to keep the lease, so only convergence was checked: ${why(safe)}`);
    expect(safe.stored.state, why(safe)).toBe('completed');
    expect(safe.answers, why(safe)).toEqual(Array(callers).fill(safe.stored.value));
    expect(String(safe.stored.value), why(safe)).toMatch(/^by run \d+$/);
    return;
  }
  expect(tally(safe, 'by run 1'), why(safe)).toEqual({ runs: 1, returned: callers });
  expect(safe.stored, why(safe)).toEqual({ state: 'completed', value: 'by run 1' });
  expect(safe.renewals.lost, why(safe)).toBe(0);
  // Renewed throughout: at least one renewal a lease (one every third is sent) while the work ran.
  expect(safe.renewals.renewed, why(safe)).toBeGreaterThanOrEqual(workMs / lease);
}

/**
 * What the naive twin must show by its stop (two leases after the work would have ended): the work ran again (a
 * waiter took over the lease while the first run still ran), so the first run's result was refused and no caller got
 * it. Whether the later runs livelock too (each taken over in its turn) depends on waiters polling in time, which a
 * busy engine does not promise: the counts are in the failure message and the RACESAFE_LATENCIES=1 report.
 */
function expectRanAgain(naive: RaceReport) {
  expect(naive.runs, why(naive)).toBeGreaterThanOrEqual(2);
  expect(naive.answers, why(naive)).not.toContain('by run 1');
  expect(naive.stored.value, why(naive)).not.toBe('by run 1');
}

/** The four races of one size: 2 and 30 callers, 50 ms apart (the spacing), each with its naive twin. */
async function idempotentRaces(factor: number, annotate: Annotate) {
  const workMs = factor * leaseMs;
  const call = (callers: number, heartbeats: boolean) =>
    race({
      prefix: `hbrt_${factor}_${callers}_${heartbeats}`,
      workMs,
      leaseMs,
      callers,
      staggerMs: 50,
      key: 'job',
      heartbeats,
      ...(heartbeats ? {} : { stopAtMs: workMs + 2 * leaseMs }),
      call: (table, work, heartbeat) => idempotent(work, { table, key: () => 'job', leaseMs, ...heartbeat })(),
    });
  const [safe2, naive2, safe30, naive30] = await Promise.all([
    call(2, true),
    call(2, false),
    call(30, true),
    call(30, false),
  ]);
  await expectRanOnce(safe2, 2, workMs, leaseMs, annotate);
  await expectRanOnce(safe30, 30, workMs, leaseMs, annotate);
  expectRanAgain(naive2);
  expectRanAgain(naive30);
}

// One test at a time: 30 or 50 waiters poll DynamoDB Local hundreds of times a second, and two such races at once
// slowed its answers past the lease.
onDynamoDBLocal('on the real clock, work longer than its lease (leaseMs 300)', () => {
  beforeAll(warmUp);

  it("idempotent, fn 5x (1,500 ms: the issue's reproduction), 2 and 30 callers 50 ms apart: fn runs once and every call returns its result; without heartbeats it runs again and its first result is refused", async ({
    annotate,
  }) => {
    await idempotentRaces(5, annotate);
  });

  it('idempotent, fn 20x (6,000 ms), 2 and 30 callers 50 ms apart: fn runs once and every call returns its result; without heartbeats it runs again and its first result is refused', async ({
    annotate,
  }) => {
    await idempotentRaces(20, annotate);
  });

  it('cached, 50 callers at once, a loader 5x (1,500 ms): 1 loader call, every caller gets the value; without heartbeats it loads again and its first value is refused', async ({
    annotate,
  }) => {
    const workMs = 5 * leaseMs;
    const call = (heartbeats: boolean) =>
      race({
        prefix: `hbrt_cache_${heartbeats}`,
        workMs,
        leaseMs,
        callers: 50,
        staggerMs: 0,
        key: 'rates',
        heartbeats,
        ...(heartbeats ? {} : { stopAtMs: workMs + 2 * leaseMs }),
        call: (table, work, heartbeat) => cached(table, 'rates', work, { leaseMs, ttl: 60_000, ...heartbeat }),
      });
    const [safe, naive] = await Promise.all([call(true), call(false)]);
    await expectRanOnce(safe, 50, workMs, leaseMs, annotate);
    expectRanAgain(naive);
  });
});

/**
 * A freshly started DynamoDB Local answers its first conditional writes in 100-300 ms (the JVM compiles them): warm it
 * up on the same requests (acquire, complete, read) before a 300 ms lease depends on them.
 */
async function warmUp() {
  const { table } = await timedTable('hbrt_warmup');
  for (let round = 0; round < 3; round++) {
    const job = idempotent(async (_id: number) => sleep(5), { table, key: (id) => `warm#${round}#${id}` });
    await Promise.all(Array.from({ length: 10 }, (_, id) => Promise.all([job(id), job(id)])));
  }
}
