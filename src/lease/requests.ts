/** @module The lease requests (pure): each step's UpdateItem, and what a failed condition means for it. */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput } from '../errors.js';
import { and, attributeNotExists, type Condition, compare, or } from '../expression/condition.js';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, increment, remove, renderChanges, updateExpression } from '../expression/update.js';
import type { Verdict } from '../request/conditional-write.js';
import { conditionalUpdateInput } from '../request/update-input.js';
import type { Item, Table } from '../table.js';
import type { AcquireOutcome, Lease, LeaseLost, LeaseResult, LeaseSettings } from './lease.js';
import { hasValidResult, type LeaseRecord, LeaseState, leaseAttributes, toLeaseRecord } from './record.js';

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
 * What a failed acquire means (pure), given the stored item: our own earlier attempt (its response was lost: we hold
 * the lease), a valid result to replay, or a live holder. No record at all cannot have failed the condition: it
 * changed since (an engine without ALL_OLD read it later), so the kernel sends the acquire again.
 */
export function classifyAcquire<V>(
  table: Table,
  key: Item,
  stored: Item | undefined,
  request: { readonly owner: string; readonly now: number },
): Verdict<AcquireOutcome<V>> {
  const current = leaseRecordOf<V>(table, stored);
  if (current === undefined) return { again: 'the record changed before it was read' };
  if (current.state === LeaseState.held && current.owner === request.owner) {
    const reason = 'an earlier attempt of this acquire was applied (its response was lost)';
    return { result: { status: 'acquired', lease: leaseOf(key, current), record: current }, reason };
  }
  if (hasValidResult(current, request.now)) return { result: { status: 'completed', current } };
  return { result: { status: 'busy', current }, reason: `held by ${current.owner}` };
}

/**
 * What a failed fenced write means (pure): the record an earlier attempt of this same call wrote (same owner and
 * fencing token, already in `landedState`) means its response was lost, so the call succeeded; anything else means
 * the lease was taken over (or the record is gone): `lost`, nothing written by this request (`mayHaveLanded` when an
 * earlier attempt of the call may have landed before the takeover).
 */
export function classifyFenced<R extends { status: string }, V>(
  table: Table,
  lease: Lease,
  stored: Item | undefined,
  landedState: LeaseState | undefined,
  success: () => R,
  resent = false,
): Verdict<R | LeaseLost<V>> {
  const current = leaseRecordOf<V>(table, stored);
  const ours = current?.owner === lease.owner && current?.fencingToken === lease.fencingToken;
  if (ours && landedState !== undefined && current?.state === landedState) {
    return { result: success(), reason: 'an earlier attempt of this call was applied (its response was lost)' };
  }
  const reason =
    current === undefined
      ? 'the lease record is gone'
      : `fencing token ${lease.fencingToken} lost to ${current.fencingToken} (${current.state})`;
  // Our earlier attempt may have landed and been superseded since (a completion whose result expired, then a takeover):
  // the record cannot tell, so say so instead of "nothing written".
  if (resent)
    return {
      result: { status: 'lost', current, mayHaveLanded: true },
      reason: `${reason}; an earlier attempt of this call may have landed`,
    };
  return { result: { status: 'lost', current }, reason };
}

/** The lease record of an item; an item that exists but is not a lease record is a caller error, not a busy lease. */
export function leaseRecordOf<V>(table: Table, item: Item | undefined): LeaseRecord<V> | undefined {
  const record = toLeaseRecord<V>(item);
  if (item !== undefined && record === undefined) {
    throw invalidInput('key', `the item at this key in ${table.name} is not a lease record; use a key of its own`);
  }
  return record;
}

/** The lease a record grants its holder. */
export function leaseOf(key: Item, record: LeaseRecord): Lease {
  return { key, owner: record.owner as string, fencingToken: record.fencingToken, leaseUntil: record.leaseUntil };
}
