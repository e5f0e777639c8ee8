/** @module Leases with fencing tokens: acquire, renew, complete and release, each one conditional request. */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption, RacesafeError } from '../errors.js';
import { and, attributeNotExists, type Condition, compare, or } from '../expression/condition.js';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, increment, remove, renderChanges, updateExpression } from '../expression/update.js';
import { type CallOptions, checkOptions, Operation } from '../request/operation.js';
import { storedAfterConditionFailure } from '../request/stored.js';
import { conditionalUpdateInput } from '../request/update-input.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { checkItemSize, type Item, keyAttributes, keyOf, type Table } from '../table.js';
import { type Clock, systemClock } from './clock.js';
import {
  hasValidResult,
  type LeaseRecord,
  LeaseState,
  leaseAttributes,
  type StoredError,
  toLeaseRecord,
} from './record.js';

/** Options shared by every lease request. */
export interface LeaseOptions extends CallOptions {
  /** How long a lease lasts from acquire or renew, in ms. @default 30000 */
  readonly leaseMs?: number;
  /** Where time comes from (see {@link Clock} for the clock-skew assumption). @default systemClock */
  readonly clock?: Clock;
  /** The table's TTL attribute (epoch seconds), so that DynamoDB deletes old records. @default 'expiresAt' */
  readonly ttlAttribute?: string;
  /**
   * How long a record is kept after its lease or its result's validity ends, before TTL may delete it. TTL deletes
   * lazily (often days later) and nothing here relies on it; once a record is deleted its fencing counter restarts,
   * which is safe because no lease on it can still be live. @default 3600000 (1 hour)
   */
  readonly retainMs?: number;
}

export interface AcquireLeaseOptions extends LeaseOptions {
  /** A hash of the request's payload, stored with the lease so that duplicates can compare theirs. @default none */
  readonly payloadHash?: string;
}

export interface CompleteLeaseOptions extends LeaseOptions {
  /** How long the stored result stays valid, in ms; after that the key can be acquired again. @default 3600000 */
  readonly validForMs?: number;
}

/** A held lease: present its owner token and fencing token to renew, complete or release it. */
export interface Lease {
  readonly key: Item;
  /** Random per acquire: identifies this holder. */
  readonly owner: string;
  /** Larger than every earlier holder's: pass it to downstream systems so they can refuse older holders too. */
  readonly fencingToken: number;
  /** When the lease ends, by the acquiring worker's clock (epoch ms). */
  readonly leaseUntil: number;
}

/**
 * What an acquire did.
 * - `acquired`: the caller holds the lease (`record` is the record as written, with any earlier result still in it);
 * - `busy`: another holder's lease is live (`current` is undefined only when, on an engine without ALL_OLD, the
 *   record changed before it could be read: try again);
 * - `completed`: a valid result is stored; replay it.
 */
export type AcquireOutcome<V = unknown> =
  | { readonly status: 'acquired'; readonly lease: Lease; readonly record: LeaseRecord<V> }
  | { readonly status: 'busy'; readonly current: LeaseRecord<V> | undefined }
  | { readonly status: 'completed'; readonly current: LeaseRecord<V> };

/** A renew, complete or release that found the lease taken over (or gone): nothing was written. */
export interface LeaseLost<V = unknown> {
  readonly status: 'lost';
  readonly current: LeaseRecord<V> | undefined;
}

export type RenewOutcome<V = unknown> = { readonly status: 'renewed'; readonly lease: Lease } | LeaseLost<V>;
export type CompleteOutcome<V = unknown> = { readonly status: 'completed' } | LeaseLost<V>;
export type ReleaseOutcome<V = unknown> = { readonly status: 'released' } | LeaseLost<V>;

/** What to store on completion: a result, or (for `idempotent` with `onError: 'store'`) a failure. */
export type LeaseResult = { readonly value: unknown } | { readonly error: StoredError };

const leaseOptionNames = ['leaseMs', 'clock', 'ttlAttribute', 'retainMs'];

/** Lease options with their defaults applied (once, here). */
export interface LeaseSettings {
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly ttlAttribute: string;
  readonly retainMs: number;
}

/** Validates lease options and applies their defaults. */
export function leaseSettings(table: Table, options: LeaseOptions): LeaseSettings {
  const settings = {
    leaseMs: options.leaseMs ?? 30_000,
    clock: options.clock ?? systemClock,
    ttlAttribute: options.ttlAttribute ?? 'expiresAt',
    retainMs: options.retainMs ?? 3_600_000,
  };
  checkDuration(settings.leaseMs, 'leaseMs', 1);
  checkDuration(settings.retainMs, 'retainMs', 0);
  if (typeof settings.clock?.now !== 'function') throw invalidOption('clock', 'must have a now() method');
  const reserved: readonly string[] = [...keyAttributes(table), ...Object.values(leaseAttributes)];
  if (typeof settings.ttlAttribute !== 'string' || reserved.includes(settings.ttlAttribute)) {
    throw invalidOption('ttlAttribute', `must be a string other than ${reserved.join(', ')}`);
  }
  return settings;
}

/** Checks a duration option: a whole number of ms, at least `min`. */
export function checkDuration(value: unknown, field: string, min: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw invalidOption(field, `must be a whole number of milliseconds >= ${min}`);
  }
}

/** DynamoDB TTL reads epoch seconds; round up so that a record is never deleted before `ms`. */
function ttlSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** The UpdateItem of an acquire (pure): takes the lease when no live lease and no valid result is stored. */
export function buildAcquireLease(
  table: Table,
  key: Item,
  settings: LeaseSettings,
  request: { readonly owner: string; readonly now: number; readonly payloadHash: string | undefined },
): UpdateCommandInput {
  const { now, owner, payloadHash } = request;
  const leaseUntil = now + settings.leaseMs;
  const changes: Changes = {
    [leaseAttributes.state]: LeaseState.held,
    [leaseAttributes.owner]: owner,
    [leaseAttributes.leaseUntil]: leaseUntil,
    [leaseAttributes.fencingToken]: increment(1),
    [leaseAttributes.payloadHash]: payloadHash ?? remove(),
    [leaseAttributes.error]: remove(),
    [settings.ttlAttribute]: ttlSeconds(leaseUntil + settings.retainMs),
  };
  // The earlier result (if any) stays in the record, so stale-while-revalidate readers can still serve it.
  const noRecord = attributeNotExists(table.partitionKey);
  const leaseEnded = and(stateIs(LeaseState.held), compare(leaseAttributes.leaseUntil, '<=', now));
  const released = stateIs(LeaseState.released);
  const resultExpired = and(stateIs(LeaseState.completed), compare(leaseAttributes.validUntil, '<=', now));
  return conditionalUpdate(table, key, changes, or(noRecord, leaseEnded, released, resultExpired), 'ALL_NEW');
}

/** The UpdateItem of a renew (pure): extends the lease, only for this owner and fencing token. */
export function buildRenewLease(table: Table, lease: Lease, settings: LeaseSettings, now: number): UpdateCommandInput {
  const leaseUntil = now + settings.leaseMs;
  const changes: Changes = {
    [leaseAttributes.leaseUntil]: leaseUntil,
    [settings.ttlAttribute]: ttlSeconds(leaseUntil + settings.retainMs),
  };
  return conditionalUpdate(table, lease.key, changes, heldBy(lease), 'NONE');
}

/** The UpdateItem of a completion (pure): stores the result, only for this owner and fencing token. */
export function buildCompleteLease(
  table: Table,
  lease: Lease,
  result: LeaseResult,
  settings: LeaseSettings & { readonly validForMs: number },
  now: number,
): UpdateCommandInput {
  const validUntil = now + settings.validForMs;
  const stored: Changes =
    'error' in result
      ? { [leaseAttributes.value]: remove(), [leaseAttributes.error]: { ...result.error } }
      : // DynamoDB cannot store `undefined`: an undefined result is an absent attribute (hasValue tells them apart).
        { [leaseAttributes.value]: result.value === undefined ? remove() : result.value };
  const changes: Changes = {
    [leaseAttributes.state]: LeaseState.completed,
    [leaseAttributes.validUntil]: validUntil,
    ...stored,
    [settings.ttlAttribute]: ttlSeconds(validUntil + settings.retainMs),
  };
  return conditionalUpdate(table, lease.key, changes, heldBy(lease), 'NONE');
}

/** The UpdateItem of a release (pure): gives the lease up early, only for this owner and fencing token. */
export function buildReleaseLease(
  table: Table,
  lease: Lease,
  settings: LeaseSettings,
  now: number,
): UpdateCommandInput {
  const changes: Changes = {
    [leaseAttributes.state]: LeaseState.released,
    [settings.ttlAttribute]: ttlSeconds(now + settings.retainMs),
  };
  return conditionalUpdate(table, lease.key, changes, heldBy(lease), 'NONE');
}

function stateIs(state: LeaseState): Condition {
  return compare(leaseAttributes.state, '=', state);
}

/**
 * The fence: the record is still held by this owner at this fencing token. A zombie (a worker that paused past its
 * lease while another took it over) fails this and writes nothing, whatever its clock says.
 */
function heldBy(lease: Lease): Condition {
  return and(
    stateIs(LeaseState.held),
    compare(leaseAttributes.owner, '=', lease.owner),
    compare(leaseAttributes.fencingToken, '=', lease.fencingToken),
  );
}

function conditionalUpdate(
  table: Table,
  key: Item,
  changes: Changes,
  condition: Condition,
  returnValues: 'ALL_NEW' | 'NONE',
): UpdateCommandInput {
  const placeholders = new Placeholders();
  const update = updateExpression(renderChanges(changes, placeholders));
  return conditionalUpdateInput(table, key, placeholders, { update, condition: condition(placeholders) }, returnValues);
}

/**
 * Takes the lease on `key` in one conditional UpdateItem, when nobody holds a live lease and no valid result is
 * stored. Every acquire raises the key's fencing token by one, so a later holder always has a larger one than an
 * earlier holder that paused past its lease.
 *
 * ```
 * worker A  acquire(token 1) ──── pause ─────────────────────── complete(token 1) → lost, writes nothing
 * worker B                         lease 1 ends → acquire(token 2) ── complete(token 2) → completed
 * ```
 *
 * @example
 * ```ts
 * import { acquireLease, completeLease, defineTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });
 * const outcome = await acquireLease(leases, { pk: 'report#2024-06' }, { leaseMs: 10_000 });
 * if (outcome.status === 'acquired') {
 *   const done = await completeLease(leases, outcome.lease, { value: { rows: 42 } });
 *   if (done.status === 'lost') console.log('taken over; our result was not stored');
 * }
 * ```
 */
export async function acquireLease<V = unknown>(
  table: Table,
  key: Item,
  options: AcquireLeaseOptions = {},
): Promise<AcquireOutcome<V>> {
  checkOptions(options, [...leaseOptionNames, 'payloadHash'], 'acquireLease');
  const itemKey = keyOf(table, key, 'key');
  const settings = leaseSettings(table, options);
  const owner = randomUUID();
  const now = settings.clock.now();
  const request = buildAcquireLease(table, itemKey, settings, { owner, now, payloadHash: options.payloadHash });
  const operation = new Operation(table, 'acquireLease', itemKey, options);
  return operation.run(async (): Promise<AcquireOutcome<V>> => {
    try {
      const result = await operation.send(() => table.client.send(new UpdateCommand(request)));
      const record = leaseRecordOf<V>(table, result.Attributes) as LeaseRecord<V>;
      return { status: 'acquired', lease: leaseOf(itemKey, record), record };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = leaseRecordOf<V>(table, await storedAfterConditionFailure(operation, error));
      if (current?.state === LeaseState.held && current.owner === owner) {
        operation.reason = 'an earlier attempt of this acquire was applied (its response was lost)';
        return { status: 'acquired', lease: leaseOf(itemKey, current), record: current };
      }
      if (current !== undefined && hasValidResult(current, now)) return { status: 'completed', current };
      operation.reason = current === undefined ? 'the record changed before it was read' : `held by ${current.owner}`;
      return { status: 'busy', current };
    }
  });
}

/**
 * Extends a held lease (a heartbeat) in one UpdateItem conditioned on the owner token and fencing token.
 *
 * @example
 * ```ts
 * import { type Lease, renewLease, defineTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * declare const lease: Lease;
 * const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });
 * const renewed = await renewLease(leases, lease, { leaseMs: 10_000 });
 * if (renewed.status === 'lost') throw new Error('stop: another worker holds the lease now');
 * ```
 */
export async function renewLease<V = unknown>(
  table: Table,
  lease: Lease,
  options: LeaseOptions = {},
): Promise<RenewOutcome<V>> {
  checkOptions(options, leaseOptionNames, 'renewLease');
  const settings = leaseSettings(table, options);
  const now = settings.clock.now();
  const request = buildRenewLease(table, checkedLease(table, lease), settings, now);
  // Renewing is naturally idempotent: an SDK retry of a renew that landed meets the same condition and lands again.
  return fencedWrite<RenewOutcome<V>, V>(table, 'renewLease', lease, request, options, undefined, () => ({
    status: 'renewed',
    lease: { ...lease, leaseUntil: now + settings.leaseMs },
  }));
}

/**
 * Stores the result and ends the lease, in one UpdateItem conditioned on the owner token and fencing token: a holder
 * whose lease was taken over gets `lost` and its late result is not stored.
 *
 * @example
 * ```ts
 * import { type Lease, completeLease, defineTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * declare const lease: Lease;
 * const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });
 * const done = await completeLease(leases, lease, { value: 'ok' }, { validForMs: 60_000 });
 * ```
 */
export async function completeLease<V = unknown>(
  table: Table,
  lease: Lease,
  result: LeaseResult,
  options: CompleteLeaseOptions = {},
): Promise<CompleteOutcome<V>> {
  checkOptions(options, [...leaseOptionNames, 'validForMs'], 'completeLease');
  const settings = { ...leaseSettings(table, options), validForMs: options.validForMs ?? 3_600_000 };
  checkDuration(settings.validForMs, 'validForMs', 0);
  if (typeof result !== 'object' || result === null || !('value' in result || 'error' in result)) {
    throw invalidInput('result', 'must be { value } or { error: { name, message } }');
  }
  const request = buildCompleteLease(table, checkedLease(table, lease), result, settings, settings.clock.now());
  checkItemSize({ ...lease.key, ...request.ExpressionAttributeValues }, 'result');
  return fencedWrite<CompleteOutcome<V>, V>(
    table,
    'completeLease',
    lease,
    request,
    options,
    LeaseState.completed,
    () => ({
      status: 'completed',
    }),
  );
}

/**
 * Gives a held lease up early (e.g. after a failure, so a retry need not wait for the lease to end), in one
 * UpdateItem conditioned on the owner token and fencing token. The record stays, so its fencing counter keeps rising.
 *
 * @example
 * ```ts
 * import { type Lease, releaseLease, defineTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * declare const lease: Lease;
 * const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });
 * await releaseLease(leases, lease);
 * ```
 */
export async function releaseLease<V = unknown>(
  table: Table,
  lease: Lease,
  options: LeaseOptions = {},
): Promise<ReleaseOutcome<V>> {
  checkOptions(options, leaseOptionNames, 'releaseLease');
  const settings = leaseSettings(table, options);
  const request = buildReleaseLease(table, checkedLease(table, lease), settings, settings.clock.now());
  return fencedWrite<ReleaseOutcome<V>, V>(table, 'releaseLease', lease, request, options, LeaseState.released, () => ({
    status: 'released',
  }));
}

/**
 * Sends a write fenced by {@link heldBy}. On a failed condition, the record written by an earlier attempt of this
 * same call (same owner and fencing token, already in `landedState`) means its response was lost: report success.
 */
async function fencedWrite<R extends { status: 'renewed' | 'completed' | 'released' | 'lost' }, V>(
  table: Table,
  op: string,
  lease: Lease,
  request: UpdateCommandInput,
  options: CallOptions,
  landedState: LeaseState | undefined,
  success: () => R,
): Promise<R> {
  const operation = new Operation(table, op, lease.key, options);
  return operation.run(async (): Promise<R> => {
    try {
      await operation.send(() => table.client.send(new UpdateCommand(request)));
      return success();
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = leaseRecordOf<V>(table, await storedAfterConditionFailure(operation, error));
      const ours = current?.owner === lease.owner && current.fencingToken === lease.fencingToken;
      if (ours && landedState !== undefined && current.state === landedState) {
        operation.reason = 'an earlier attempt of this call was applied (its response was lost)';
        return success();
      }
      operation.reason =
        current === undefined
          ? 'the lease record is gone'
          : `fencing token ${lease.fencingToken} lost to ${current.fencingToken} (${current.state})`;
      return { status: 'lost', current } as LeaseLost<V> as unknown as R;
    }
  });
}

export interface ReadLeaseOptions extends CallOptions {
  /** A strongly consistent read, so a completion that just landed is seen. @default true */
  readonly consistent?: boolean;
}

/**
 * Reads the lease record of `key` (undefined when there is none).
 *
 * @example
 * ```ts
 * import { defineTable, readLease } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });
 * const record = await readLease(leases, { pk: 'report#2024-06' });
 * console.log(record?.state, record?.fencingToken);
 * ```
 */
export async function readLease<V = unknown>(
  table: Table,
  key: Item,
  options: ReadLeaseOptions = {},
): Promise<LeaseRecord<V> | undefined> {
  checkOptions(options, ['consistent'], 'readLease');
  const itemKey = keyOf(table, key, 'key');
  const operation = new Operation(table, 'readLease', itemKey, options);
  const request = { TableName: table.name, Key: itemKey, ConsistentRead: options.consistent ?? true };
  try {
    const result = await operation.send(() => table.client.send(new GetCommand(request)));
    return leaseRecordOf<V>(table, result.Item);
  } catch (error) {
    if (error instanceof RacesafeError) throw error;
    throw new RacesafeError(
      'service.failure',
      `readLease on ${table.name} failed: ${error instanceof Error ? error.message : String(error)}`,
      { operation: 'readLease', attempts: operation.attempts },
      error,
    );
  }
}

/** The lease record of an item; an item that exists but is not a lease record is a caller error, not a busy lease. */
function leaseRecordOf<V>(table: Table, item: Item | undefined): LeaseRecord<V> | undefined {
  const record = toLeaseRecord<V>(item);
  if (item !== undefined && record === undefined) {
    throw invalidInput('key', `the item at this key in ${table.name} is not a lease record; use a key of its own`);
  }
  return record;
}

function leaseOf(key: Item, record: LeaseRecord): Lease {
  return { key, owner: record.owner as string, fencingToken: record.fencingToken, leaseUntil: record.leaseUntil };
}

function checkedLease(table: Table, lease: Lease): Lease {
  if (typeof lease !== 'object' || lease === null) throw invalidInput('lease', 'must be a Lease from acquireLease');
  if (typeof lease.owner !== 'string' || !Number.isSafeInteger(lease.fencingToken)) {
    throw invalidInput('lease', 'must carry the owner and fencingToken from acquireLease');
  }
  return { ...lease, key: keyOf(table, lease.key, 'lease.key') };
}
