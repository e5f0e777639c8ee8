/** @module Leases with fencing tokens: acquire, renew, complete and release, each one request through the kernel. */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption } from '../errors.js';
import { conditionalWrite } from '../request/conditional-write.js';
import { type CallOptions, Operation, serviceFailure } from '../request/operation.js';
import { checkCallOptions } from '../rules/call-options.js';
import { checkItemSize, type Item, keyAttributes, keyOf, type Table } from '../table.js';
import { type Clock, systemClock } from './clock.js';
import { acquireLeaseRules, completeLeaseRules, leaseRules, readLeaseRules } from './option-rules.js';
import { type LeaseRecord, LeaseState, leaseAttributes, type StoredError } from './record.js';
import {
  buildAcquireLease,
  buildCompleteLease,
  buildReleaseLease,
  buildRenewLease,
  classifyAcquire,
  classifyFenced,
  leaseOf,
  leaseRecordOf,
} from './requests.js';

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
  checkCallOptions(options, acquireLeaseRules, 'acquireLease');
  const itemKey = keyOf(table, key, 'key');
  const settings = leaseSettings(table, options);
  const owner = randomUUID();
  const now = settings.clock.now();
  const request = buildAcquireLease(table, itemKey, settings, { owner, now, payloadHash: options.payloadHash });
  const operation = new Operation(table, 'acquireLease', itemKey, options);
  return conditionalWrite(operation, {
    send: async (): Promise<AcquireOutcome<V>> => {
      const result = await table.client.send(new UpdateCommand(request));
      const record = leaseRecordOf<V>(table, result.Attributes) as LeaseRecord<V>;
      return { status: 'acquired', lease: leaseOf(itemKey, record), record };
    },
    classify: (stored) => classifyAcquire<V>(table, itemKey, stored, { owner, now }),
    // An acquire recognises its own earlier attempt by its owner token: safe to send again after a lost response.
    resend: 'ambiguous',
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
  checkCallOptions(options, leaseRules, 'renewLease');
  const settings = leaseSettings(table, options);
  const now = settings.clock.now();
  const request = buildRenewLease(table, checkedLease(table, lease), settings, now);
  // Renewing is naturally idempotent: a resend of a renew that landed meets the same condition and lands again.
  return fencedWrite<{ status: 'renewed'; lease: Lease }, V>(table, lease, {
    op: 'renewLease',
    request,
    options,
    landedState: undefined,
    success: () => ({ status: 'renewed', lease: { ...lease, leaseUntil: now + settings.leaseMs } }),
  });
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
  checkCallOptions(options, completeLeaseRules, 'completeLease');
  const settings = { ...leaseSettings(table, options), validForMs: options.validForMs ?? 3_600_000 };
  checkDuration(settings.validForMs, 'validForMs', 0);
  if (typeof result !== 'object' || result === null || !('value' in result || 'error' in result)) {
    throw invalidInput('result', 'must be { value } or { error: { name, message } }');
  }
  const request = buildCompleteLease(table, checkedLease(table, lease), result, settings, settings.clock.now());
  checkItemSize({ ...lease.key, ...request.ExpressionAttributeValues }, 'result');
  return fencedWrite<{ status: 'completed' }, V>(table, lease, {
    op: 'completeLease',
    request,
    options,
    landedState: LeaseState.completed,
    success: () => ({ status: 'completed' }),
  });
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
  checkCallOptions(options, leaseRules, 'releaseLease');
  const settings = leaseSettings(table, options);
  const request = buildReleaseLease(table, checkedLease(table, lease), settings, settings.clock.now());
  return fencedWrite<{ status: 'released' }, V>(table, lease, {
    op: 'releaseLease',
    request,
    options,
    landedState: LeaseState.released,
    success: () => ({ status: 'released' }),
  });
}

/** One fenced write (renew, complete, release): the pure request, and what success and an earlier landing look like. */
interface FencedWrite<R> {
  readonly op: string;
  readonly request: UpdateCommandInput;
  readonly options: CallOptions;
  /** The state an earlier attempt of this call leaves the record in; undefined: none to recognise (renew). */
  readonly landedState: LeaseState | undefined;
  readonly success: () => R;
}

/**
 * Sends a write fenced by the owner and fencing token through the kernel; {@link classifyFenced} reads a failed
 * condition. The fence recognises an earlier attempt of this call, so a failure that may have landed is sent again.
 */
function fencedWrite<S extends { status: 'renewed' | 'completed' | 'released' }, V>(
  table: Table,
  lease: Lease,
  write: FencedWrite<S>,
): Promise<S | LeaseLost<V>> {
  const operation = new Operation(table, write.op, lease.key, write.options);
  return conditionalWrite(operation, {
    send: async (): Promise<S | LeaseLost<V>> => {
      await table.client.send(new UpdateCommand(write.request));
      return write.success();
    },
    classify: (stored) => classifyFenced<S, V>(table, lease, stored, write.landedState, write.success),
    resend: 'ambiguous',
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
  checkCallOptions(options, readLeaseRules, 'readLease');
  const itemKey = keyOf(table, key, 'key');
  const operation = new Operation(table, 'readLease', itemKey, options);
  const request = { TableName: table.name, Key: itemKey, ConsistentRead: options.consistent ?? true };
  try {
    const result = await operation.send(() => table.client.send(new GetCommand(request)));
    return leaseRecordOf<V>(table, result.Item);
  } catch (error) {
    throw serviceFailure('readLease', table.name, operation.attempts, error);
  }
}

function checkedLease(table: Table, lease: Lease): Lease {
  if (typeof lease !== 'object' || lease === null) throw invalidInput('lease', 'must be a Lease from acquireLease');
  if (typeof lease.owner !== 'string' || !Number.isSafeInteger(lease.fencingToken)) {
    throw invalidInput('lease', 'must carry the owner and fencingToken from acquireLease');
  }
  return { ...lease, key: keyOf(table, lease.key, 'lease.key') };
}
