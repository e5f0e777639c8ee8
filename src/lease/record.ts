/** @module The lease record: one item per key with its state, owner token, fencing token, expiries and result. */
import type { Item } from '../table.js';

/**
 * The states of a lease record. Transitions, each one conditional request:
 * - (none) | `released` | `held` whose lease ended | `completed` whose result expired → `held` (acquire; the fencing
 *   token goes up by one);
 * - `held` → `completed` | `released` | `held` (complete, release, renew), only by the holder of this owner token
 *   AND this fencing token.
 */
export const LeaseState = { held: 'held', completed: 'completed', released: 'released' } as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

/**
 * Where a lease record keeps each field. Fixed names: a lease record is an item of its own (its own key), so they
 * cannot collide with the caller's attributes. Only the TTL attribute is the caller's choice (the table's TTL setting).
 */
export const leaseAttributes = {
  state: 'leaseState',
  owner: 'leaseOwner',
  fencingToken: 'fencingToken',
  leaseUntil: 'leaseUntil',
  validUntil: 'validUntil',
  payloadHash: 'payloadHash',
  value: 'value',
  error: 'storedError',
} as const;

/** A failure stored instead of a result (`idempotent` with `onError: 'store'`). */
export interface StoredError {
  readonly name: string;
  readonly message: string;
}

/** A lease record as read from the table. Times are epoch milliseconds from the writers' {@link Clock}s. */
export interface LeaseRecord<V = unknown> {
  readonly state: LeaseState;
  /** The owner token of the latest acquire. */
  readonly owner: string | undefined;
  /** Goes up by one on every acquire of this key (while the record exists): a later holder always has a larger one. */
  readonly fencingToken: number;
  /** When the current (or last) holder's lease ends. */
  readonly leaseUntil: number;
  /** Until when a completed result is valid. */
  readonly validUntil: number | undefined;
  /** The hash of the payload that acquired the lease, when payloads are validated. */
  readonly payloadHash: string | undefined;
  /** Whether a result is stored (a result may itself be `undefined`). */
  readonly hasValue: boolean;
  readonly value: V | undefined;
  readonly error: StoredError | undefined;
}

/** Reads a lease record from an item (pure); undefined when the item is not one. */
export function toLeaseRecord<V = unknown>(item: Item | undefined): LeaseRecord<V> | undefined {
  if (item === undefined) return undefined;
  const state = item[leaseAttributes.state];
  if (state !== LeaseState.held && state !== LeaseState.completed && state !== LeaseState.released) return undefined;
  const owner = item[leaseAttributes.owner];
  const validUntil = item[leaseAttributes.validUntil];
  const payloadHash = item[leaseAttributes.payloadHash];
  const error = item[leaseAttributes.error] as Partial<StoredError> | undefined;
  return {
    state,
    owner: typeof owner === 'string' ? owner : undefined,
    fencingToken: Number(item[leaseAttributes.fencingToken] ?? 0),
    leaseUntil: Number(item[leaseAttributes.leaseUntil] ?? 0),
    validUntil: typeof validUntil === 'number' ? validUntil : undefined,
    payloadHash: typeof payloadHash === 'string' ? payloadHash : undefined,
    hasValue: leaseAttributes.value in item,
    value: item[leaseAttributes.value] as V | undefined,
    error: error === undefined ? undefined : { name: String(error.name), message: String(error.message) },
  };
}

/** Someone holds the lease and it has not ended yet: wait, or fail with `lease.inProgress`. */
export function isHeldLive(record: LeaseRecord | undefined, now: number): boolean {
  return record?.state === LeaseState.held && record.leaseUntil > now;
}

/** A completed result that is still valid: replay it. */
export function hasValidResult(record: LeaseRecord | undefined, now: number): boolean {
  return record?.state === LeaseState.completed && record.validUntil !== undefined && record.validUntil > now;
}
