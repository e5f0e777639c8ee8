/** @module idempotent(): run a function once per key, store its result, replay it to duplicates; a Lambda wrapper. */
import type { Context } from 'aws-lambda';
import { invalidInput, invalidOption, RacesafeError } from '../errors.js';
import { type CallOptions, callOptionNames } from '../request/operation.js';
import { checkCallOptions } from '../rules/call-options.js';
import type { Item, Table } from '../table.js';
import { tenantScope } from '../tenant/scope.js';
import { type HeartbeatOptions, heartbeatInterval } from './heartbeat.js';
import { runHolding } from './hold.js';
import { acquireLease, checkDuration, type LeaseOptions, type LeaseSettings, leaseSettings } from './lease.js';
import { idempotentRules } from './option-rules.js';
import { payloadHash } from './payload.js';
import { hasValidResult, isHeldLive, type LeaseRecord } from './record.js';
import { inProgress, type PollOptions, waitSettings, waitWhileHeld } from './wait.js';

/** What `idempotent` needs to know; `A` are the wrapped function's arguments. */
export interface IdempotentOptions<A extends unknown[]> extends LeaseOptions, HeartbeatOptions {
  /** The table that keeps one lease record per key (its own items; a TTL on `ttlAttribute` cleans them up). */
  readonly table: Table;
  /** The record's key for a call, e.g. `(order) => 'order#' + order.id`; a string is the partition key's value. */
  readonly key: (...args: A) => Item | string;
  /** How long a stored result is replayed, in ms; after that the next call runs `fn` again. @default 3600000 */
  readonly ttl?: number;
  /** A duplicate that arrives while the first call runs: wait for its result, or throw `lease.inProgress`. @default 'wait' */
  readonly onInProgress?: 'wait' | 'fail';
  /**
   * Compare each duplicate's payload with the first call's: `true` fingerprints all arguments, a function picks what
   * to fingerprint. A different payload under the same key throws `idempotency.payloadMismatch`. @default false
   */
  readonly validatePayload?: boolean | ((...args: A) => unknown);
  /**
   * When `fn` throws: `release` the lease so the next call runs `fn` again at once, or `store` the failure (name and
   * message) so duplicates throw `idempotency.storedError` until `ttl` ends. @default 'release'
   */
  readonly onError?: 'release' | 'store';
  /** How duplicates poll while the first call runs. @default { firstDelayMs: 10, capMs: 100, maxWaitMs: 2 x leaseMs } */
  readonly poll?: PollOptions;
}

/** Options validated once, when the function is wrapped. */
interface IdempotentConfig {
  readonly table: Table;
  readonly ttl: number;
  readonly onInProgress: 'wait' | 'fail';
  readonly onError: 'release' | 'store';
  readonly settings: LeaseSettings;
  /** As given: the default (a third of the lease) depends on the lease, which the Lambda wrapper knows per call. */
  readonly heartbeatMs: number | undefined;
  readonly poll: PollOptions | undefined;
  readonly call: CallOptions;
}

function idempotentConfig(options: IdempotentOptions<never>, where: string): IdempotentConfig {
  if (typeof options !== 'object' || options === null) throw invalidOption(where, 'options are required');
  checkCallOptions(options, idempotentRules, where);
  if (typeof options.table?.client?.send !== 'function')
    throw invalidOption('table', 'must be a table from defineTable');
  if (typeof options.key !== 'function') throw invalidOption('key', 'must be a function from the arguments to a key');
  const config = {
    table: options.table,
    ttl: options.ttl ?? 3_600_000,
    onInProgress: options.onInProgress ?? 'wait',
    onError: options.onError ?? 'release',
    settings: leaseSettings(options.table, options),
    heartbeatMs: options.heartbeatMs,
    poll: options.poll,
    call: callOptionsOf(options),
  };
  checkDuration(config.ttl, 'ttl', 1);
  if (config.onInProgress !== 'wait' && config.onInProgress !== 'fail') {
    throw invalidOption('onInProgress', "must be 'wait' or 'fail'");
  }
  if (config.onError !== 'release' && config.onError !== 'store') {
    throw invalidOption('onError', "must be 'release' or 'store'");
  }
  const validate = options.validatePayload;
  if (validate !== undefined && typeof validate !== 'boolean' && typeof validate !== 'function') {
    throw invalidOption('validatePayload', 'must be a boolean or a function of the arguments');
  }
  waitSettings(config.poll, config.settings.leaseMs, config.settings.clock);
  heartbeatInterval(config.heartbeatMs, config.settings.leaseMs);
  return config;
}

/** The shared call options (observe, context, throttle) of an options object, leaving out the undefined ones. */
export function callOptionsOf(options: CallOptions): CallOptions {
  const picked: Record<string, unknown> = {};
  for (const name of callOptionNames) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked as CallOptions;
}

/** A key from the caller's `key` function: a string is the partition key's value. */
export function resolveKey(table: Table, key: Item | string): Item {
  if (typeof key === 'string') {
    if (table.sortKey !== undefined) throw invalidInput('key', `must be an object with ${table.sortKey} too`);
    return { [table.partitionKey]: key };
  }
  return key;
}

/**
 * Makes `fn` idempotent per key: the first call takes a lease (one conditional write), runs `fn` while renewing the
 * lease every `heartbeatMs` (fenced writes), and stores its result with a write fenced by its owner token and
 * fencing token. Duplicates meanwhile wait (polling with a small, growing delay) as long as the holder renews, and
 * return that result; later duplicates get it in one request without running `fn`. A caller that finds the lease
 * ended (its holder died or paused, so stopped renewing) takes it over with a higher fencing token; the paused
 * holder's late result is then refused, and it returns the stored result like any duplicate. Inside `fn`,
 * `leaseSignal()` is an `AbortSignal` that aborts when the lease is lost: stop the work then.
 *
 * @example
 * ```ts
 * import { defineTable, idempotent } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * declare function chargeCard(orderId: string, cents: number): Promise<{ chargeId: string }>;
 * const idempotency = defineTable({ client, name: 'idempotency', partitionKey: 'pk' });
 * const charge = idempotent(chargeCard, {
 *   table: idempotency,
 *   key: (orderId) => `charge#${orderId}`,
 *   validatePayload: true,
 *   leaseMs: 15_000,
 * });
 * const { chargeId } = await charge('o-1', 1250); // a duplicate call returns the same chargeId
 * ```
 */
export function idempotent<A extends unknown[], R>(
  fn: (...args: A) => R | Promise<R>,
  options: IdempotentOptions<A>,
): (...args: A) => Promise<R> {
  if (typeof fn !== 'function') throw invalidInput('fn', 'must be a function');
  const config = idempotentConfig(options as IdempotentOptions<never>, 'idempotent');
  const validate = options.validatePayload ?? false;
  return (...args: A) => {
    const key = resolveKey(config.table, options.key(...args));
    const hash = validate === false ? undefined : payloadHash(validate === true ? args : validate(...args));
    const leaseMs = config.settings.leaseMs;
    const plan = { leaseMs, heartbeatMs: heartbeatInterval(config.heartbeatMs, leaseMs), deadline: undefined };
    return runIdempotent(config, key, hash, plan, async () => fn(...args));
  };
}

/** Options of {@link idempotentHandler}: those of `idempotent`, with the lease following the invocation's time. */
export interface IdempotentHandlerOptions<E> extends Omit<IdempotentOptions<[E]>, 'leaseMs' | 'key'> {
  /**
   * The record's key for an invocation; it also receives the Lambda context, so that e.g. `context.tenantId` can be
   * part of the key. A string is the partition key's value.
   */
  readonly key: (event: E, context: Context) => Item | string;
  /**
   * The lease, in ms. By default the invocation's remaining time: Lambda stops the invocation then, so a duplicate
   * may take over exactly when the first invocation can no longer finish. @default context.getRemainingTimeInMillis()
   */
  readonly leaseMs?: number | ((context: Context) => number);
}

/**
 * Wraps a Lambda handler so that each event (by `key`) is handled once; duplicates (retries, redeliveries) get the
 * stored response. The lease follows `context.getRemainingTimeInMillis()` unless `leaseMs` says otherwise; with a
 * shorter lease, the heartbeat renews it while the handler runs, never past the invocation's own end (Lambda stops
 * it then). A waiting duplicate gives up (with `lease.inProgress`) a second before its own invocation would time out.
 * The handler gets the lease's `AbortSignal` as a third argument (also `leaseSignal()`). Under Lambda's tenant
 * isolation mode (`context.tenantId` set) the records are tenant-scoped (`tenantScope` from `racesafe/tenant`): the
 * same key under two tenants is handled once per tenant, and never replays one tenant's response to another.
 *
 * @example
 * ```ts
 * import { defineTable, idempotentHandler } from 'racesafe';
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const table = defineTable({ client, name: 'idempotency', partitionKey: 'pk' });
 * export const handler = idempotentHandler(
 *   async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => ({ statusCode: 201, body: event.body ?? '' }),
 *   { table, key: (event) => `payment#${event.headers['Idempotency-Key']}`, validatePayload: (event) => event.body },
 * );
 * ```
 */
export function idempotentHandler<E, R>(
  handler: (event: E, context: Context, signal: AbortSignal) => R | Promise<R>,
  options: IdempotentHandlerOptions<E>,
): (event: E, context: Context) => Promise<R> {
  if (typeof handler !== 'function') throw invalidInput('handler', 'must be a function');
  const { leaseMs, ...rest } = options;
  if (leaseMs !== undefined && typeof leaseMs !== 'number' && typeof leaseMs !== 'function') {
    throw invalidOption('leaseMs', 'must be a number of ms or a function of the Lambda context');
  }
  const config = idempotentConfig(
    { ...rest, ...(typeof leaseMs === 'number' ? { leaseMs } : {}) } as IdempotentOptions<never>,
    'idempotentHandler',
  );
  const validate = options.validatePayload ?? false;
  return (event, context) => {
    const remaining = context.getRemainingTimeInMillis();
    const lease =
      typeof leaseMs === 'number' ? leaseMs : typeof leaseMs === 'function' ? leaseMs(context) : Math.floor(remaining);
    checkDuration(lease, 'leaseMs', 1);
    const heartbeatMs = heartbeatInterval(config.heartbeatMs, lease);
    // Give up waiting a second before this invocation's own timeout, so it can still answer.
    const deadline = config.settings.clock.now() + Math.max(0, Math.floor(remaining) - 1000);
    // In Lambda's tenant isolation mode the same key under two tenants is two keys: scope the records by tenant.
    const tenantId = context.tenantId;
    const scoped = tenantId === undefined ? config : { ...config, table: tenantScope(config.table, tenantId) };
    const key = resolveKey(scoped.table, options.key(event, context));
    const hash = validate === false ? undefined : payloadHash(validate === true ? event : validate(event));
    // A renewal never extends the lease past this invocation's end: a duplicate may take over once it cannot finish.
    const leaseFor = () => Math.min(lease, Math.floor(context.getRemainingTimeInMillis()));
    const plan = { leaseMs: lease, heartbeatMs, deadline, leaseFor };
    return runIdempotent(scoped, key, hash, plan, async (signal) => handler(event, context, signal));
  };
}

/** One call's lease: its length, how often it is renewed, and when a waiting duplicate must give up. */
interface CallPlan {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly deadline: number | undefined;
  readonly leaseFor?: () => number;
}

/**
 * The idempotent call: acquire, or replay, or wait and then replay or take over. Every loop either holds the lease,
 * returns, or has waited (a poll delay at least) for a live holder, so it cannot spin.
 */
async function runIdempotent<R>(
  config: IdempotentConfig,
  key: Item,
  hash: string | undefined,
  plan: CallPlan,
  run: (signal: AbortSignal) => Promise<R>,
): Promise<R> {
  const { table, settings } = config;
  const leaseOptions = { ...config.call, ...settings, leaseMs: plan.leaseMs };
  const wait = waitSettings(config.poll, plan.leaseMs, settings.clock, plan.deadline);
  for (;;) {
    const outcome = await acquireLease(table, key, {
      ...leaseOptions,
      ...(hash === undefined ? {} : { payloadHash: hash }),
    });
    let record: LeaseRecord | undefined;
    if (outcome.status === 'acquired') {
      const holding = {
        onError: config.onError,
        validForMs: config.ttl,
        errorValidForMs: config.ttl,
        leaseOptions,
        heartbeatMs: plan.heartbeatMs,
        ...(plan.leaseFor === undefined ? {} : { leaseFor: plan.leaseFor }),
      };
      const ran = await runHolding(table, outcome.lease, holding, run);
      if (ran.stored) return ran.value;
      record = ran.current; // the lease was lost (our result was refused or not sent): behave as a duplicate
    } else {
      record = outcome.current;
    }
    checkPayload(key, record, hash, settings.clock.now());
    if (hasValidResult(record, settings.clock.now())) return replay<R>(key, record as LeaseRecord);
    if (isHeldLive(record, settings.clock.now())) {
      if (config.onInProgress === 'fail') throw inProgress(key, record, 0);
      record = await waitWhileHeld(table, key, record, wait, config.call);
      checkPayload(key, record, hash, settings.clock.now());
      if (hasValidResult(record, settings.clock.now())) return replay<R>(key, record as LeaseRecord);
    }
    // Released, expired or gone: take the lease (again).
  }
}

function checkPayload(key: Item, record: LeaseRecord | undefined, hash: string | undefined, now: number): void {
  const stored = record?.payloadHash;
  if (hash === undefined || stored === undefined || stored === hash) return;
  // Only a live record speaks for the key; an expired or released one is simply taken over.
  if (!hasValidResult(record, now) && !isHeldLive(record, now)) return;
  throw new RacesafeError(
    'idempotency.payloadMismatch',
    `the idempotency key ${JSON.stringify(key)} was used before with a different payload`,
    { key, storedHash: stored, payloadHash: hash },
  );
}

function replay<R>(key: Item, record: LeaseRecord): R {
  if (record.error !== undefined) {
    throw new RacesafeError(
      'idempotency.storedError',
      `the first call for ${JSON.stringify(key)} failed: ${record.error.name}: ${record.error.message}`,
      { key, ...record.error },
    );
  }
  return record.value as R;
}
