/** @module A seeded scheduler that decides the interleaving of requests, so that a race found with `--seed N` replays exactly. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidInput, invalidOption, rejectUnknownOptions } from '../errors.js';
import { awsErrorName } from '../retry/backoff.js';
import {
  type AttachableClient,
  describeRequest,
  type Middleware,
  type RequestDescription,
  stackAttachments,
} from './faults-stack.js';
import { type Random, randomInt, seededRandom } from './random.js';

export interface SchedulerOptions {
  /** Seeds the choice of the next request; each `run` starts from it. @default 0 */
  readonly seed?: number;
  /**
   * How long the scheduler waits, with requests parked, for a worker that is neither parked nor finished (it may be
   * awaiting something outside the gate forever). Then it releases a parked request anyway and marks the run
   * nondeterministic rather than hang. SDK retry backoffs are waited for; keep this above the longest one. @default 10000
   */
  readonly watchdogMs?: number;
  /** Key attributes read from a `PutItem`'s item for the trace (other operations carry a `Key`). @default ['pk', 'sk'] */
  readonly keyAttributes?: readonly string[];
}

/** What a worker is told about itself. */
export interface WorkerContext {
  /** The worker's position in the array given to `run`, from 0. */
  readonly worker: number;
}

export type Worker<T> = (context: WorkerContext) => Promise<T> | T;

/** One request the scheduler let through, in the order it did. */
export interface TraceEntry {
  readonly worker: number;
  /** `GetItem`, `PutItem`, … (a DocumentClient's `Get` is a `GetItem` on the wire). */
  readonly operation: string;
  /** The table, when the request touches exactly one. */
  readonly table: string | undefined;
  /** The key, for single-item operations (see {@link SchedulerOptions.keyAttributes} for `PutItem`). */
  readonly key: Readonly<Record<string, unknown>> | undefined;
  /** `ok`, or the error's name: `ConditionalCheckFailedException`, `SimulatedNetworkError`, … */
  readonly outcome: string;
}

export interface ScheduledRun<T> {
  readonly seed: number;
  /** Each worker's result, in the order of the workers. A crashed worker is `rejected`. */
  readonly results: readonly PromiseSettledResult<T>[];
  readonly trace: readonly TraceEntry[];
  /** False when the watchdog released a request: the interleaving may not replay from the seed. */
  readonly deterministic: boolean;
  readonly watchdogReleases: number;
}

export interface Scheduler {
  /**
   * Adds the gate to a client's stack and returns `detach`. A DocumentClient shares its stack with the client it wraps:
   * attaching either gates both. Requests sent outside `run` (setup, checkers) pass straight through.
   */
  attach(client: AttachableClient): () => void;
  /** Runs the workers concurrently, one request at a time in a seeded order, and resolves when all have settled. */
  run<T>(workers: readonly Worker<T>[]): Promise<ScheduledRun<T>>;
}

const optionNames = ['seed', 'watchdogMs', 'keyAttributes'] as const;

interface Membership {
  readonly run: Run;
  readonly worker: number;
}

/**
 * Creates a scheduler. Every request a worker sends through an attached client parks at a gate below the SDK's retry
 * middleware (so each retry is scheduled again). When every live worker is parked or finished, the scheduler picks one
 * parked request with its seeded PRNG, lets it reach the engine and waits for the response before the next choice.
 * Single-item DynamoDB operations are linearizable, so this serial order is a faithful interleaving, and it is the same
 * on every run with the same seed. A worker that sleeps (an SDK or application backoff) is simply waited for.
 *
 * ```
 * worker 0 ──GetItem──▶ [gate] ─┐        pick (seeded) ─▶ engine ─▶ response ─▶ worker 0 continues
 * worker 1 ──GetItem──▶ [gate] ─┼─ all parked? ─┤
 * worker 2 ──(backoff timer)... ┘  no: wait     └─ next pick only after that response
 * ```
 *
 * Workers are told apart with AsyncLocalStorage, so a worker may use any client attached to the scheduler. A worker
 * that sends several requests at once is blocked only once all of them are parked.
 *
 * @example
 * ```ts
 * import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
 * import { createScheduler } from 'racesafe/testing';
 * import { expect, it } from 'vitest';
 *
 * declare const client: DynamoDBDocumentClient; // your client, pointed at DynamoDB Local
 *
 * it('replays the same interleaving from the same seed', async () => {
 *   const increment = async () => {
 *     const { Item } = await client.send(new GetCommand({ TableName: 'counters', Key: { pk: 'c' } }));
 *     await client.send(new PutCommand({ TableName: 'counters', Item: { pk: 'c', n: Number(Item?.n ?? 0) + 1 } }));
 *   };
 *   const traces = [];
 *   for (const attempt of [1, 2]) {
 *     await client.send(new PutCommand({ TableName: 'counters', Item: { pk: 'c', n: 0 } })); // outside run: not gated
 *     const scheduler = createScheduler({ seed: 7 });
 *     const detach = scheduler.attach(client);
 *     try {
 *       const run = await scheduler.run([increment, increment, increment]);
 *       traces.push(run.trace);
 *     } finally {
 *       detach();
 *     }
 *   }
 *   expect(traces[0]).toEqual(traces[1]);
 * });
 * ```
 */
export function createScheduler(options: SchedulerOptions = {}): Scheduler {
  rejectUnknownOptions(options, optionNames, 'createScheduler');
  const seed = options.seed ?? 0;
  const watchdogMs = options.watchdogMs ?? 10_000;
  const keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  if (!Number.isSafeInteger(seed)) throw invalidOption('createScheduler.seed', 'must be a safe integer');
  if (!(Number.isSafeInteger(watchdogMs) && watchdogMs > 0)) {
    throw invalidOption('createScheduler.watchdogMs', 'must be a positive integer (milliseconds)');
  }
  if (!(Array.isArray(keyAttributes) && keyAttributes.every((name) => typeof name === 'string'))) {
    throw invalidOption('createScheduler.keyAttributes', 'must be an array of attribute names');
  }
  const storage = new AsyncLocalStorage<Membership>();
  let active = false;

  // Once per client.send(): a worker with a call on its way to the gate is not blocked yet.
  const tracksCalls: Middleware = (next) => async (args) => {
    const membership = storage.getStore();
    if (membership === undefined || membership.run.closed) return next(args);
    membership.run.callStarted(membership.worker);
    try {
      return await next(args);
    } finally {
      membership.run.callEnded(membership.worker);
    }
  };

  // Once per attempt, below the SDK's retry middleware.
  const gate: Middleware = (next, context) => async (args) => {
    const membership = storage.getStore();
    if (membership === undefined || membership.run.closed) return next(args);
    const { run, worker } = membership;
    const entry = await run.park(worker, describeRequest(context.commandName, args.input, keyAttributes));
    try {
      const result = await next(args);
      entry.outcome = 'ok';
      return result;
    } catch (error) {
      entry.outcome = awsErrorName(error) ?? 'Error';
      throw error;
    } finally {
      run.responded();
    }
  };

  const attach = stackAttachments('scheduler', [
    { position: 'send', middleware: tracksCalls },
    { position: 'attempt', middleware: gate },
  ]);

  return {
    attach,
    async run<T>(workers: readonly Worker<T>[]): Promise<ScheduledRun<T>> {
      if (!Array.isArray(workers) || !workers.every((worker) => typeof worker === 'function')) {
        throw invalidInput('workers', 'must be an array of functions');
      }
      if (active) {
        throw invalidInput(
          'workers',
          'this scheduler is already running workers; use one scheduler per concurrent run',
        );
      }
      active = true;
      try {
        const run = new Run(seededRandom(seed), workers.length, watchdogMs);
        const settled = workers.map((worker, index) =>
          storage.run({ run, worker: index }, () => new Promise<T>((resolve) => resolve(worker({ worker: index })))),
        );
        const results = settled.map((promise, index) =>
          promise.then(
            (value): PromiseSettledResult<T> => {
              run.workerSettled(index);
              return { status: 'fulfilled', value };
            },
            (reason: unknown): PromiseSettledResult<T> => {
              run.workerSettled(index);
              return { status: 'rejected', reason };
            },
          ),
        );
        const outcomes = await Promise.all(results);
        await run.finished;
        return {
          seed,
          results: outcomes,
          trace: run.trace.map((entry) => ({ ...entry })),
          deterministic: run.watchdogReleases === 0,
          watchdogReleases: run.watchdogReleases,
        };
      } finally {
        active = false;
      }
    },
  };
}

/** A trace entry while its request is under way (its outcome is filled in when the response arrives). */
export interface MutableTraceEntry {
  worker: number;
  operation: string;
  table: string | undefined;
  key: Readonly<Record<string, unknown>> | undefined;
  outcome: string;
}

interface ParkedRequest {
  readonly worker: number;
  /** Arrival number within its worker: with the worker index, a stable order to pick from. */
  readonly arrival: number;
  readonly request: RequestDescription;
  readonly release: (entry: MutableTraceEntry) => void;
}

interface WorkerState {
  settled: boolean;
  /** Calls (client.send) started and not ended. */
  pending: number;
  /** Attempts waiting at the gate. */
  parked: number;
  arrivals: number;
}

/**
 * The state of one `run` (also the gate of racesafe's gating proxy, whose workers are Lambda environments). Decisions are taken in a `setImmediate` after each event, so that a worker whose response
 * just arrived has run its microtasks (and parked its next request, if it sends one without waiting on a timer).
 */
export class Run {
  readonly trace: MutableTraceEntry[] = [];
  readonly finished: Promise<void>;
  closed = false;
  watchdogReleases = 0;
  private readonly workers: WorkerState[];
  private readonly parked: ParkedRequest[] = [];
  private inFlight = false;
  private decisionQueued = false;
  private watchdog: NodeJS.Timeout | undefined;
  private finish: () => void = () => undefined;

  constructor(
    private readonly random: Random,
    workerCount: number,
    private readonly watchdogMs: number,
  ) {
    this.workers = Array.from({ length: workerCount }, () => ({ settled: false, pending: 0, parked: 0, arrivals: 0 }));
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.queueDecision();
  }

  callStarted(worker: number): void {
    this.state(worker).pending += 1;
  }

  callEnded(worker: number): void {
    this.state(worker).pending -= 1;
    this.queueDecision();
  }

  workerSettled(worker: number): void {
    this.state(worker).settled = true;
    this.queueDecision();
  }

  /** Parks an attempt; resolves with its trace entry when the scheduler lets it through. */
  park(worker: number, request: RequestDescription): Promise<MutableTraceEntry> {
    const state = this.state(worker);
    state.parked += 1;
    state.arrivals += 1;
    const arrival = state.arrivals;
    return new Promise((resolve) => {
      const parked: ParkedRequest = { worker, arrival, request, release: resolve };
      const at = this.parked.findIndex((other) => other.worker > worker);
      this.parked.splice(at === -1 ? this.parked.length : at, 0, parked);
      this.queueDecision();
    });
  }

  /** The released attempt has its response (or error): the next decision may be taken. */
  responded(): void {
    this.inFlight = false;
    this.queueDecision();
  }

  private state(worker: number): WorkerState {
    const state = this.workers[worker];
    if (state === undefined) throw new Error(`racesafe scheduler: unknown worker ${worker}`);
    return state;
  }

  private queueDecision(): void {
    if (this.decisionQueued || this.closed) return;
    this.decisionQueued = true;
    setImmediate(() => {
      this.decisionQueued = false;
      this.decide();
    });
  }

  private decide(): void {
    if (this.inFlight || this.closed) return;
    const done = (state: WorkerState) => state.settled && state.pending === 0;
    if (this.parked.length === 0) {
      this.stopWatchdog();
      if (this.workers.every(done)) {
        this.closed = true;
        this.finish();
      }
      return;
    }
    // Blocked: everything the worker has under way is parked. A finished worker's stray call counts too.
    const blocked = (state: WorkerState) => state.parked > 0 && state.parked >= state.pending;
    if (this.workers.every((state) => done(state) || blocked(state))) {
      this.stopWatchdog();
      this.release(this.parked.length === 1 ? 0 : randomInt(this.random, this.parked.length));
      return;
    }
    this.watchdog ??= setTimeout(() => {
      this.watchdog = undefined;
      if (this.inFlight || this.closed || this.parked.length === 0) return;
      this.watchdogReleases += 1;
      this.release(randomInt(this.random, this.parked.length));
    }, this.watchdogMs);
  }

  private release(index: number): void {
    const [chosen] = this.parked.splice(index, 1);
    if (chosen === undefined) return;
    this.state(chosen.worker).parked -= 1;
    this.inFlight = true;
    const { operation, tables, key } = chosen.request;
    const entry: MutableTraceEntry = {
      worker: chosen.worker,
      operation,
      table: tables.length === 1 ? tables[0] : undefined,
      key,
      outcome: 'pending',
    };
    this.trace.push(entry);
    chosen.release(entry);
  }

  private stopWatchdog(): void {
    if (this.watchdog === undefined) return;
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }
}

/** One line per entry (`3 w1 PutItem counters {"pk":"c"} ok`), for assertion messages and lab reports. */
export function formatTrace(trace: readonly TraceEntry[]): string {
  return trace
    .map(
      (entry, step) =>
        `${step} w${entry.worker} ${entry.operation} ${entry.table ?? '-'} ${entry.key === undefined ? '-' : JSON.stringify(entry.key)} ${entry.outcome}`,
    )
    .join('\n');
}
