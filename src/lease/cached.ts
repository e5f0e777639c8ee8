/** @module cached(): single-flight cache fill in DynamoDB, one loader call per key however many callers miss at once. */
import { invalidInput, invalidOption, rejectUnknownOptions } from '../errors.js';
import { checkOptions } from '../request/operation.js';
import type { Item, Table } from '../table.js';
import { runHolding } from './hold.js';
import { callOptionsOf, resolveKey } from './idempotent.js';
import { acquireLease, checkDuration, type LeaseOptions, leaseSettings, readLease } from './lease.js';
import { hasValidResult, isHeldLive, type LeaseRecord } from './record.js';
import { type PollOptions, pollOptionNames, waitSettings, waitWhileHeld } from './wait.js';

export interface CachedOptions extends LeaseOptions {
  /** How long a loaded value is fresh, in ms. @default 60000 */
  readonly ttl?: number;
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

const cachedOptionNames = [
  'ttl',
  'leaseMs',
  'clock',
  'ttlAttribute',
  'retainMs',
  'staleWhileRevalidate',
  'poll',
  'consistentRead',
];

/**
 * Returns the cached value of `key`, or loads it with exactly one `loader` call however many callers miss at once.
 * A hit is one read. On a miss, callers race for the key's lease (one conditional write): the winner calls `loader`
 * and stores the value with a write fenced by its lease; the others poll (first after 5-10 ms, then doubling up to
 * 100 ms) and get the winner's value within about one poll delay of the winner. If the winner crashes, a waiter
 * takes over once its lease ends, and the crashed winner's late value is refused.
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
  loader: () => T | Promise<T>,
  options: CachedOptions = {},
): Promise<T> {
  checkOptions(options, cachedOptionNames, 'cached');
  if (typeof loader !== 'function') throw invalidInput('loader', 'must be a function');
  const ttl = options.ttl ?? 60_000;
  const staleMs = options.staleWhileRevalidate ?? 0;
  checkDuration(ttl, 'ttl', 1);
  checkDuration(staleMs, 'staleWhileRevalidate', 0);
  if (options.consistentRead !== undefined && typeof options.consistentRead !== 'boolean') {
    throw invalidOption('consistentRead', 'must be a boolean');
  }
  rejectUnknownOptions(options.poll, pollOptionNames, 'poll');
  const settings = leaseSettings(table, options);
  const { clock } = settings;
  const call = callOptionsOf(options);
  // A stale value must outlive its freshness by the revalidation window before TTL may delete it.
  const leaseOptions = { ...call, ...settings, retainMs: settings.retainMs + staleMs };
  const holding = { onError: 'release' as const, validForMs: ttl, leaseOptions };
  const wait = waitSettings(options.poll, settings.leaseMs, clock);
  const itemKey = resolveKey(table, key);
  const servesStale = (record: LeaseRecord | undefined): record is LeaseRecord =>
    record?.hasValue === true && record.validUntil !== undefined && record.validUntil + staleMs > clock.now();

  let record = await readLease(table, itemKey, { ...call, consistent: options.consistentRead ?? false });
  for (;;) {
    if (hasValidResult(record, clock.now())) return (record as LeaseRecord<T>).value as T;
    // A live holder is already loading: acquiring would only fail, so wait (or serve the stale value) right away.
    if (!isHeldLive(record, clock.now())) {
      const outcome = await acquireLease<T>(table, itemKey, leaseOptions);
      if (outcome.status === 'acquired') {
        const ran = await runHolding(table, outcome.lease, holding, async () => loader());
        if (ran.stored) return ran.value;
        record = ran.current; // refused: the lease was taken over while we loaded; read the newer holder's value
        continue;
      }
      record = outcome.current;
      if (outcome.status === 'completed') continue;
    }
    if (servesStale(record)) return record.value as T;
    if (isHeldLive(record, clock.now())) record = await waitWhileHeld(table, itemKey, record, wait, call);
  }
}
