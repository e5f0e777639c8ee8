/** @module Version-monotonic writes: the condition they share and how a failed condition is classified. */
import type { PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { RacesafeError } from '../errors.js';
import type { Condition } from '../expression/condition.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { compareVersions, type Item, isTombstone, type Table, type Version, withoutBookkeeping } from '../table.js';
import { type Operation, storedAfterConditionFailure } from './operation.js';
import type { WriteOutcome } from './outcome.js';
import { holdsToken } from './recent-tokens.js';

/**
 * Write only when nothing is stored or the stored version is older: `attribute_not_exists(pk) OR version < :v`.
 * A tombstone keeps its version, so it blocks older writes exactly like a live item. The text is the same for every
 * write of a table (fixed placeholders), so it is rendered once per table: this runs on every versioned write.
 */
export function newerThanStored(table: Table, version: Version): Condition {
  return (placeholders) => {
    const rendered = renderedNewerThanStored(table);
    placeholders.fixed(rendered.names, { [versionPlaceholder]: version });
    return rendered.condition;
  };
}

/** {@link newerThanStored} as the expression fields of a request on its own (a put has no other placeholders). */
export function newerThanStoredExpression(
  table: Table,
  version: Version,
): Required<Pick<PutCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>> {
  const rendered = renderedNewerThanStored(table);
  return {
    ConditionExpression: rendered.condition,
    ExpressionAttributeNames: { ...rendered.names },
    ExpressionAttributeValues: { [versionPlaceholder]: version },
  };
}

const versionPlaceholder = ':rsVersion';
const renderedConditions = new WeakMap<Table, { condition: string; names: Record<string, string> }>();

function renderedNewerThanStored(table: Table): { condition: string; names: Record<string, string> } {
  let rendered = renderedConditions.get(table);
  if (rendered === undefined) {
    const names = { '#rsKey': table.partitionKey, '#rsVersion': table.versionAttribute };
    rendered = { condition: `(attribute_not_exists(#rsKey)) OR (#rsVersion < ${versionPlaceholder})`, names };
    renderedConditions.set(table, rendered);
  }
  return rendered;
}

/** How a versioned write that failed its condition ended, judged from the stored item. */
export type VersionVerdict =
  | { readonly status: 'applied' | 'stale' | 'duplicate'; readonly current: Item; readonly reason: string }
  | { readonly status: 'rejected'; readonly current: Item; readonly reason: string }
  /** The stored item does not explain the failure (it changed since, on an engine without ALL_OLD): write again. */
  | { readonly status: 'again' };

/**
 * Classifies a failed versioned write. Our own write token on the stored item means an earlier attempt of this very
 * call landed and its response was lost (the SDK retried it), so the truthful outcome is `applied`.
 */
export function classifyVersioned(
  table: Table,
  current: Item | undefined,
  version: Version,
  token: string,
  tombstoneWrite = false,
): VersionVerdict {
  if (current === undefined) return { status: 'again' };
  if (holdsToken(table, current, token)) {
    return {
      status: 'applied',
      current,
      reason: 'an earlier attempt of this call was applied (its response was lost)',
    };
  }
  const stored = current[table.versionAttribute];
  const order = compareVersions(stored, version);
  if (order === undefined) {
    return {
      status: 'rejected',
      current,
      reason: `stored ${table.versionAttribute} is ${typeOfVersion(stored)}, this write's is ${typeof version}: they cannot be ordered`,
    };
  }
  const storedIsTombstone = isTombstone(table, current);
  const what = storedIsTombstone ? 'a delete at version' : 'version';
  if (order > 0) {
    return { status: 'stale', current, reason: `stored ${what} ${String(stored)} is newer than ${String(version)}` };
  }
  if (order === 0 && storedIsTombstone === tombstoneWrite) {
    return { status: 'duplicate', current, reason: `${what} ${String(version)} is already stored` };
  }
  // At an equal version a delete wins over a write, so a write of a deleted version is stale.
  if (order === 0 && storedIsTombstone) {
    return { status: 'stale', current, reason: `stored ${what} ${String(stored)} supersedes this write` };
  }
  return { status: 'again' };
}

function typeOfVersion(value: unknown): string {
  return value === undefined ? 'missing' : `a ${typeof value}`;
}

/** Rounds of "the stored item changed since the condition failed; write again" (only engines without ALL_OLD need them). */
export const maxVersionedRounds = 5;

/**
 * Sends a versioned write and turns a failed condition into its outcome. `write` sends the request and returns the
 * applied item; `recovered` gives the applied item when an earlier attempt of this call turns out to have landed.
 */
export async function versionedWrite<T extends object>(
  operation: Operation,
  version: Version,
  token: string,
  write: () => Promise<T>,
  recovered: (current: T) => T,
  tombstoneWrite = false,
): Promise<WriteOutcome<T>> {
  const { table } = operation;
  return operation.run(async (): Promise<WriteOutcome<T>> => {
    for (let round = 0; round < maxVersionedRounds; round++) {
      try {
        return { status: 'applied', item: await operation.send(write) };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const stored = await storedAfterConditionFailure(operation, error);
        const verdict = classifyVersioned(table, stored, version, token, tombstoneWrite);
        if (verdict.status === 'again') continue;
        operation.reason = verdict.reason;
        const current = withoutBookkeeping(table, verdict.current) as T;
        if (verdict.status === 'applied') return { status: 'applied', item: recovered(current) };
        if (verdict.status === 'rejected') return { status: 'rejected', current, reason: verdict.reason };
        return { status: verdict.status, current };
      }
    }
    throw new RacesafeError('write.conflict', `the stored item changed on every one of ${maxVersionedRounds} rounds`, {
      attempts: operation.attempts,
      lastSeen: undefined,
    });
  });
}
