/** @module cached(): single-flight cache fill in DynamoDB, one loader call per key however many callers miss at once. */
import { invalidInput, invalidOption, RacesafeError } from '../errors.js';
import { checkCallOptions } from '../rules/call-options.js';
import type { Item, Table } from '../table.js';
import { type HeartbeatOptions, heartbeatInterval } from './heartbeat.js';
import { runHolding } from './hold.js';
import { callOptionsOf, resolveKey } from './idempotent.js';
import { acquireLease, checkDuration, type LeaseOptions, leaseSettings, readLease } from './lease.js';
import { cachedRules } from './option-rules.js';
import { hasValidResult, isHeldLive, type LeaseRecord, LeaseState } from './record.js';
import { type PollOptions, waitSettings, waitWhileHeld } from './wait.js';

export interface CachedOptions extends LeaseOptions, HeartbeatOptions {
  /** How long a loaded value is fresh, in ms. @default 60000 */
  readonly ttl?: number;
  /**
   * How long a loader failure is cached, in ms (negative caching): one loader call per fill, and the callers that
   * waited for it, and those that come within `errorTtl`, get `cache.loaderFailed` instead of calling the loader
   * again. `0`: a failure frees the key at once, and each waiter then calls the loader itself. @default 1000
   */
  readonly errorTtl?: number;
  /**
   * For this long after `ttl`, callers get the old value at once while one of them loads the new one (it refreshes
   * inline and returns the new value: work left running after a Lambda returns is frozen). @default 0 (off)
   */
  readonly staleWhileRevalidate?: number;
  /** How waiting callers poll while the winner loads. @default { firstDelayMs: 10, capMs: 100, maxWaitMs: 2 x leaseMs } */
  readonly poll?: PollOptions;
  /** Read the cache with a strongly consistent read (twice the read cost; a miss is settled by the lease anyway). @default false */
  readonly consistentRead?: boolean;
}

/**
 * Returns the cached value of `key`, or loads it with exactly one `loader` call however many callers miss at once.
 * A hit is one read. On a miss, callers race for the key's lease (one conditional write): the winner calls `loader`,
 * renews its lease every `heartbeatMs` while the loader runs, and stores the value with a write fenced by its lease;
 * the others poll (first after 5-10 ms, then doubling up to 100 ms) for as long as the winner renews, and get the
 * winner's value within about one poll delay of the winner. A loader failure is stored for `errorTtl` and the
 * waiters of that fill get it as `cache.loaderFailed`. If the winner crashes (stops renewing), a waiter takes over
 * once its lease ends, and the crashed winner's late value is refused. The loader gets the lease's `AbortSignal`
 * (aborted when the lease is lost).
 *
 * @example
 * ```ts
 * import { cached, defineTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * declare function fetchRates(): Promise<Record<string, number>>;
 * const cache = defineTable({ client, name: 'cache', partitionKey: 'pk' });
 * const rates = await cached(cache, 'rates#EUR', fetchRates, {
 *   ttl: 60_000,
 *   leaseMs: 10_000,
 *   staleWhileRevalidate: 300_000,
 * });
 * ```
 */
export async function cached<T>(
  table: Table,
  key: Item | string,
  loader: (signal: AbortSignal) => T | Promise<T>,
  options: CachedOptions = {},
): Promise<T> {
  checkCallOptions(options, cachedRules, 'cached');
  if (typeof loader !== 'function') throw invalidInput('loader', 'must be a function');
  const ttl = options.ttl ?? 60_000;
  const errorTtl = options.errorTtl ?? 1_000;
  const staleMs = options.staleWhileRevalidate ?? 0;
  checkDuration(ttl, 'ttl', 1);
  checkDuration(errorTtl, 'errorTtl', 0);
  checkDuration(staleMs, 'staleWhileRevalidate', 0);
  if (options.consistentRead !== undefined && typeof options.consistentRead !== 'boolean') {
    throw invalidOption('consistentRead', 'must be a boolean');
  }
  const settings = leaseSettings(table, options);
  const { clock } = settings;
  const call = callOptionsOf(options);
  // A stale value must outlive its freshness by the revalidation window before TTL may delete it.
  const leaseOptions = { ...call, ...settings, retainMs: settings.retainMs + staleMs };
  const holding = {
    onError: errorTtl === 0 ? ('release' as const) : ('store' as const),
    validForMs: ttl,
    errorValidForMs: errorTtl,
    leaseOptions,
    heartbeatMs: heartbeatInterval(options.heartbeatMs, settings.leaseMs),
  };
  const wait = waitSettings(options.poll, settings.leaseMs, clock);
  const itemKey = resolveKey(table, key);
  const servesStale = (record: LeaseRecord | undefined): boolean =>
    record?.hasValue === true && record.validUntil !== undefined && record.validUntil + staleMs > clock.now();

  // The fill this caller waited for: its outcome is this caller's answer, even if it has expired since.
  let waitedFor: number | undefined;
  let record = await readLease(table, itemKey, { ...call, consistent: options.consistentRead ?? false });
  for (;;) {
    const now = clock.now();
    const filled = record?.state === LeaseState.completed && record.fencingToken === waitedFor;
    if (record !== undefined && (hasValidResult(record, now) || filled)) return answer<T>(itemKey, record);
    // A live holder is already loading: acquiring would only fail, so wait (or serve the stale value) right away.
    if (!isHeldLive(record, now)) {
      const outcome = await acquireLease<T>(table, itemKey, leaseOptions);
      if (outcome.status === 'acquired') {
        const ran = await runHolding(table, outcome.lease, holding, async (signal) => loader(signal));
        if (ran.stored) return ran.value;
        record = ran.current; // the lease was lost while we loaded: read the newer holder's value
        continue;
      }
      record = outcome.current;
      if (outcome.status === 'completed') continue;
    }
    if (servesStale(record)) return record?.value as T;
    if (isHeldLive(record, clock.now())) {
      waitedFor = record?.fencingToken;
      record = await waitWhileHeld(table, itemKey, record, wait, call);
    }
  }
}

/** A completed fill's answer: its value, or its loader's failure. */
function answer<T>(key: Item, record: LeaseRecord): T {
  if (record.error !== undefined) {
    throw new RacesafeError(
      'cache.loaderFailed',
      `the loader for ${JSON.stringify(key)} failed: ${record.error.name}: ${record.error.message}`,
      { key, ...record.error },
    );
  }
  return record.value as T;
}
