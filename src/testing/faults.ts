/** @module Faults injected as AWS SDK v3 middleware, so they work against any endpoint: latency, lost responses, throttling, TransactionConflict, crashes. */
import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import { sleep } from '../retry/backoff.js';
import {
  type AttachableClient,
  describeRequest,
  type Middleware,
  operationName,
  type RequestDescription,
  type StackEntry,
  stackAttachments,
} from './faults-stack.js';
import { type Random, randomInt, seededRandom } from './random.js';

/** Which requests a fault applies to. A request must pass every filter that is given. */
export interface FaultTarget {
  /** Operation names, with or without the `Command` suffix: `['PutItem', 'UpdateItem']`. @default every operation */
  readonly commands?: readonly string[];
  /** Table names; a transaction or batch matches when it touches one of them. @default every table */
  readonly tables?: readonly string[];
  /** A further filter, e.g. on the key. @default every request */
  readonly match?: (request: RequestDescription) => boolean;
}

/** Added latency, drawn per attempt. It widens the window between a read and the write that depends on it. */
export interface LatencyFault extends FaultTarget {
  /** @default 0 */
  readonly minMs?: number;
  /** @default 20 */
  readonly maxMs?: number;
  /** Chance that an attempt is delayed. @default 1 */
  readonly probability?: number;
  /**
   * `response`: the engine has already applied the request when the caller is delayed (widens read-then-write
   * windows); `request`: the request waits before it is sent. @default 'response'
   */
  readonly at?: 'request' | 'response';
}

/**
 * The response is lost after the engine committed the request: the caller's attempt fails with a
 * {@link SimulatedNetworkError} (`code: 'ECONNRESET'`), which the SDK's standard and adaptive retry strategies classify
 * as transient, so the SDK sends the same request again. Only successful responses are lost. The SDK's retry quota
 * still applies (in @smithy/core 3: 500 tokens per client, 14 per transient retry, refunded when the retry succeeds),
 * so a client that loses many responses in a row stops retrying, as a real one would.
 */
export interface LostResponseFault extends FaultTarget {
  /** Chance that a successful attempt's response is lost. @default 1 */
  readonly probability?: number;
  /** Most responses to lose in total. @default Infinity */
  readonly limit?: number;
}

/** `ProvisionedThroughputExceededException` instead of sending the attempt; the SDK retries it as throttling. */
export interface ThrottlingFault extends FaultTarget {
  /** @default 1 */
  readonly probability?: number;
  /** @default Infinity */
  readonly limit?: number;
}

/**
 * `TransactionCanceledException` with one action's reason `TransactionConflict` (another transaction holds the item),
 * instead of sending the attempt. DynamoDB Local never produces it. The SDK does not retry it.
 */
export interface TransactionConflictFault extends FaultTarget {
  /** Only `TransactWriteItems` and `TransactGetItems` can conflict. @default ['TransactWriteItems'] */
  readonly commands?: readonly string[];
  /** @default 1 */
  readonly probability?: number;
  /** @default Infinity */
  readonly limit?: number;
}

/**
 * The worker dies at the nth matching `client.send()` (counted per call, not per SDK retry): `before` it is sent, or
 * `after` the engine answered (its result is lost with the worker). The call rejects with {@link SimulatedCrash}.
 */
export interface CrashFault extends FaultTarget {
  /** Which matching call, from 1. @default 1 */
  readonly nth?: number;
  /** @default 'after' */
  readonly when?: 'before' | 'after';
}

export interface FaultOptions {
  /** Seeds every draw, so that a run replays. Each fault draws from its own stream. @default 0 */
  readonly seed?: number;
  /** @default no added latency */
  readonly latency?: LatencyFault;
  /** @default no lost responses */
  readonly lostResponse?: LostResponseFault;
  /** @default no throttling */
  readonly throttling?: ThrottlingFault;
  /** @default no TransactionConflict */
  readonly transactionConflict?: TransactionConflictFault;
  /** @default no crash */
  readonly crash?: CrashFault;
  /** Key attributes read from a `PutItem`'s item for {@link FaultTarget.match} (other operations carry a `Key`). @default ['pk', 'sk'] */
  readonly keyAttributes?: readonly string[];
}

/** What the faults injected so far. */
export interface FaultStats {
  /** Attempts that reached the fault middleware (each SDK retry counts). */
  readonly attempts: number;
  readonly latency: { readonly injected: number; readonly totalDelayMs: number };
  readonly lostResponse: { readonly injected: number };
  readonly throttling: { readonly injected: number };
  readonly transactionConflict: { readonly injected: number };
  readonly crash: { readonly injected: number };
}

export interface Faults {
  /**
   * Adds the fault middleware to a client's stack and returns `detach`. A `DynamoDBDocumentClient` shares its stack
   * with the client it wraps, so either one (or both) may be given: the faults then apply to requests sent through both.
   * Attach after setting the client up; clients created with `cacheMiddleware: true` do not see later middleware.
   */
  attach(client: AttachableClient): () => void;
  /** A snapshot of what was injected. */
  readonly stats: FaultStats;
}

/**
 * The process running the code under test "died" here. Code under test must let it propagate (wrapping it with `cause`
 * is fine: {@link isSimulatedCrash} follows the cause chain); catching and carrying on would model a worker that
 * cannot die.
 */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
  readonly operation: string;
  readonly when: 'before' | 'after';

  constructor(operation: string, when: 'before' | 'after', cause?: unknown) {
    super(`simulated crash ${when} ${operation}`, cause === undefined ? undefined : { cause });
    this.operation = operation;
    this.when = when;
  }
}

/** True when `error`, or an error in its `cause` chain, is a {@link SimulatedCrash}. */
export function isSimulatedCrash(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (current instanceof SimulatedCrash) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A connection reset after the request was sent: the shape of a response lost on the way back. `code: 'ECONNRESET'`
 * is one of the Node.js error codes that `@smithy/core`'s `isTransientError` (used by the standard and adaptive retry
 * strategies) treats as transient, so the SDK retries the request.
 */
export class SimulatedNetworkError extends Error {
  override readonly name = 'SimulatedNetworkError';
  readonly code = 'ECONNRESET';
  readonly $metadata: Record<string, unknown> = {};

  constructor(operation: string) {
    super(`socket hang up (simulated: the response to ${operation} was lost after the engine applied it)`);
  }
}

/** The error DynamoDB returns when a request is throttled (the request was not applied). */
export function throttlingError(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded (simulated by racesafe).',
    $metadata: { httpStatusCode: 400, requestId: 'racesafe-simulated-fault' },
  });
}

/**
 * The error DynamoDB returns when another transaction holds one of the items: every action has a reason, `None` except
 * the conflicting one, as in DynamoDB's "Transaction cancelled, please refer cancellation reasons…" message.
 */
export function transactionConflictError(actions: number, conflictIndex: number): TransactionCanceledException {
  const reasons = Array.from({ length: actions }, (_, index) =>
    index === conflictIndex
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
    .map((reason) => reason.Code)
    .join(', ')}]`;
  return new TransactionCanceledException({
    message,
    Message: message,
    CancellationReasons: reasons,
    $metadata: { httpStatusCode: 400, requestId: 'racesafe-simulated-fault' },
  });
}

const optionNames = [
  'seed',
  'latency',
  'lostResponse',
  'throttling',
  'transactionConflict',
  'crash',
  'keyAttributes',
] as const;
const targetNames = ['commands', 'tables', 'match'] as const;
const transactOperations = ['TransactWriteItems', 'TransactGetItems'];

/**
 * Creates seeded faults to attach to one or more SDK clients.
 *
 * Placement: `crash` runs once per `client.send()`, above the SDK's retry middleware; the other faults run once per
 * attempt, below it (and below the scheduler's gate), so a retried request meets them again, like a real one.
 *
 * @example
 * ```ts
 * import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
 * import { createFaults } from 'racesafe/testing';
 * import { expect, it } from 'vitest';
 *
 * declare const client: DynamoDBDocumentClient; // your client, pointed at DynamoDB Local
 *
 * it('counts a retried ADD twice when the first response is lost', async () => {
 *   const faults = createFaults({ seed: 1, lostResponse: { commands: ['UpdateItem'], limit: 1 } });
 *   const detach = faults.attach(client);
 *   try {
 *     const { Attributes } = await client.send(
 *       new UpdateCommand({
 *         TableName: 'counters',
 *         Key: { pk: 'hits' },
 *         UpdateExpression: 'ADD #n :one',
 *         ExpressionAttributeNames: { '#n': 'n' },
 *         ExpressionAttributeValues: { ':one': 1 },
 *         ReturnValues: 'ALL_NEW',
 *       }),
 *     );
 *     expect(Attributes?.n).toBe(2); // applied, response lost, retried by the SDK, applied again
 *     expect(faults.stats.lostResponse.injected).toBe(1);
 *   } finally {
 *     detach();
 *   }
 * });
 * ```
 */
export function createFaults(options: FaultOptions): Faults {
  rejectUnknownOptions(options, optionNames, 'createFaults');
  const seed = options.seed ?? 0;
  const keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  if (!Number.isSafeInteger(seed)) throw invalidOption('createFaults.seed', 'must be a safe integer');
  if (!(Array.isArray(keyAttributes) && keyAttributes.every((name) => typeof name === 'string'))) {
    throw invalidOption('createFaults.keyAttributes', 'must be an array of attribute names');
  }
  const latency = options.latency && latencyPlan(options.latency, streamFor(seed, 1));
  const lostResponse = options.lostResponse && drawPlan('lostResponse', options.lostResponse, streamFor(seed, 2));
  const throttling = options.throttling && drawPlan('throttling', options.throttling, streamFor(seed, 3));
  const transactionConflict =
    options.transactionConflict && transactionConflictPlan(options.transactionConflict, streamFor(seed, 4));
  const crash = options.crash && crashPlan(options.crash);
  const counts = {
    attempts: 0,
    latency: 0,
    latencyMs: 0,
    lostResponse: 0,
    throttling: 0,
    transactionConflict: 0,
    crash: 0,
  };

  const perAttempt: Middleware = (next, context) => async (args) => {
    counts.attempts += 1;
    const request = describeRequest(context.commandName, args.input, keyAttributes);
    if (throttling?.draw(request)) {
      counts.throttling += 1;
      throw throttlingError();
    }
    if (transactionConflict) {
      const actions = (args.input as { TransactItems?: readonly TransactWriteItem[] }).TransactItems?.length ?? 0;
      if (actions > 0 && transactionConflict.draw(request)) {
        counts.transactionConflict += 1;
        throw transactionConflictError(actions, randomInt(transactionConflict.random, actions));
      }
    }
    const delayMs = latency?.draw(request);
    if (delayMs !== undefined) {
      counts.latency += 1;
      counts.latencyMs += delayMs;
    }
    if (delayMs !== undefined && latency?.at === 'request') await sleep(delayMs);
    let result: unknown;
    try {
      result = await next(args);
    } finally {
      if (delayMs !== undefined && latency?.at === 'response') await sleep(delayMs);
    }
    if (lostResponse?.draw(request)) {
      counts.lostResponse += 1;
      throw new SimulatedNetworkError(request.operation);
    }
    return result;
  };

  const perCall: Middleware = (next, context) => async (args) => {
    const request = describeRequest(context.commandName, args.input, keyAttributes);
    const when = crash?.decide(request);
    if (when === undefined) return next(args);
    counts.crash += 1;
    if (when === 'before') throw new SimulatedCrash(request.operation, 'before');
    let failure: unknown;
    try {
      await next(args);
    } catch (error) {
      failure = error;
    }
    throw new SimulatedCrash(request.operation, 'after', failure);
  };

  const entries: StackEntry[] = [{ position: 'attempt-inner', middleware: perAttempt }];
  if (crash) entries.push({ position: 'call', middleware: perCall });
  const attach = stackAttachments('faults', entries);
  return {
    attach,
    get stats(): FaultStats {
      return {
        attempts: counts.attempts,
        latency: { injected: counts.latency, totalDelayMs: counts.latencyMs },
        lostResponse: { injected: counts.lostResponse },
        throttling: { injected: counts.throttling },
        transactionConflict: { injected: counts.transactionConflict },
        crash: { injected: counts.crash },
      };
    },
  };
}

/** An independent stream per fault, so that turning one fault on does not shift another's draws. */
function streamFor(seed: number, salt: number): Random {
  return seededRandom((seed ^ Math.imul(salt, 0x9e3779b1)) >>> 0);
}

/** True when the request passes every filter of the target. */
export function targets(target: FaultTarget, request: RequestDescription): boolean {
  if (target.commands && !target.commands.some((command) => operationName(command) === request.operation)) return false;
  if (target.tables && !request.tables.some((table) => target.tables?.includes(table))) return false;
  return target.match === undefined || target.match(request);
}

interface DrawPlan {
  readonly random: Random;
  /** Draws for a matching request while the limit allows; true means inject. */
  draw(request: RequestDescription): boolean;
}

function drawPlan(
  name: string,
  fault: LostResponseFault | ThrottlingFault | TransactionConflictFault,
  random: Random,
): DrawPlan {
  rejectUnknownOptions(fault, [...targetNames, 'probability', 'limit'], `createFaults.${name}`);
  validateTarget(name, fault);
  const probability = fault.probability ?? 1;
  const limit = fault.limit ?? Number.POSITIVE_INFINITY;
  requireProbability(name, probability);
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && limit >= 0))) {
    throw invalidOption(`createFaults.${name}.limit`, 'must be a non-negative integer or Infinity');
  }
  let injected = 0;
  return {
    random,
    draw(request) {
      if (injected >= limit || !targets(fault, request)) return false;
      if (!(random() < probability)) return false;
      injected += 1;
      return true;
    },
  };
}

function transactionConflictPlan(fault: TransactionConflictFault, random: Random): DrawPlan {
  const commands = fault.commands ?? ['TransactWriteItems'];
  const unsupported = commands.filter((command) => !transactOperations.includes(operationName(command)));
  if (unsupported.length > 0) {
    throw invalidOption(
      'createFaults.transactionConflict.commands',
      `only ${transactOperations.join(', ')} can be cancelled by a TransactionConflict; got ${unsupported.join(', ')}`,
    );
  }
  return drawPlan('transactionConflict', { ...fault, commands }, random);
}

interface LatencyPlan {
  readonly at: 'request' | 'response';
  /** The delay for a matching request that drew a delay, else undefined. */
  draw(request: RequestDescription): number | undefined;
}

function latencyPlan(fault: LatencyFault, random: Random): LatencyPlan {
  rejectUnknownOptions(fault, [...targetNames, 'minMs', 'maxMs', 'probability', 'at'], 'createFaults.latency');
  validateTarget('latency', fault);
  const minMs = fault.minMs ?? 0;
  const maxMs = fault.maxMs ?? 20;
  const probability = fault.probability ?? 1;
  const at = fault.at ?? 'response';
  if (!(Number.isSafeInteger(minMs) && Number.isSafeInteger(maxMs) && minMs >= 0 && maxMs >= minMs)) {
    throw invalidOption('createFaults.latency.maxMs', 'minMs and maxMs must be integers with 0 <= minMs <= maxMs');
  }
  requireProbability('latency', probability);
  if (at !== 'request' && at !== 'response') {
    throw invalidOption('createFaults.latency.at', "must be 'request' or 'response'");
  }
  return {
    at,
    draw(request) {
      if (!targets(fault, request) || !(random() < probability)) return undefined;
      return minMs + randomInt(random, maxMs - minMs + 1);
    },
  };
}

interface CrashPlan {
  /** When the worker crashes on this call, or undefined when it lives on. */
  decide(request: RequestDescription): 'before' | 'after' | undefined;
}

function crashPlan(fault: CrashFault): CrashPlan {
  rejectUnknownOptions(fault, [...targetNames, 'nth', 'when'], 'createFaults.crash');
  validateTarget('crash', fault);
  const nth = fault.nth ?? 1;
  const when = fault.when ?? 'after';
  if (!(Number.isSafeInteger(nth) && nth >= 1))
    throw invalidOption('createFaults.crash.nth', 'must be an integer >= 1');
  if (when !== 'before' && when !== 'after') {
    throw invalidOption('createFaults.crash.when', "must be 'before' or 'after'");
  }
  let seen = 0;
  return {
    decide(request) {
      if (!targets(fault, request)) return undefined;
      seen += 1;
      return seen === nth ? when : undefined;
    },
  };
}

function validateTarget(name: string, target: FaultTarget): void {
  for (const field of ['commands', 'tables'] as const) {
    const value = target[field];
    if (value !== undefined && !(Array.isArray(value) && value.every((entry) => typeof entry === 'string'))) {
      throw invalidOption(`createFaults.${name}.${field}`, 'must be an array of strings');
    }
  }
  if (target.match !== undefined && typeof target.match !== 'function') {
    throw invalidOption(`createFaults.${name}.match`, 'must be a function');
  }
}

function requireProbability(name: string, probability: number): void {
  if (!(probability >= 0 && probability <= 1)) {
    throw invalidOption(`createFaults.${name}.probability`, 'must be a number between 0 and 1');
  }
}
