/** @module Version-monotonic writes: the condition they share and how a failed condition is classified. */
import type { PutCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Condition } from '../expression/condition.js';
import { conditionalWrite } from '../request/conditional-write.js';
import type { Operation } from '../request/operation.js';
import { holdsToken } from '../request/write-token.js';
import { compareVersions, type Item, isTombstone, type Table, type Version, withoutBookkeeping } from '../table.js';
import type { WriteOutcome } from './outcome.js';

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
  | { readonly status: 'applied' | 'duplicate'; readonly current: Item; readonly reason: string }
  | { readonly status: 'stale'; readonly current: Item; readonly reason: string; readonly mayHaveLanded: boolean }
  | { readonly status: 'rejected'; readonly current: Item; readonly reason: string }
  /** The stored item does not explain the failure (it changed since, on an engine without ALL_OLD): write again. */
  | { readonly status: 'again' };

/**
 * Classifies a failed versioned write (pure). Our own write token on the stored item means an earlier attempt of
 * this very call landed and its response was lost, so the truthful outcome is `applied`. This is exact however many
 * writes came in between: only a newer version can replace the item (and its token), and then the write is `stale`;
 * when an earlier attempt may have landed (`resent`), `mayHaveLanded` says so.
 */
export function classifyVersioned(
  table: Table,
  current: Item | undefined,
  write: { readonly version: Version; readonly token: string; readonly tombstone: boolean; readonly resent: boolean },
): VersionVerdict {
  const { version, token } = write;
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
  const landed = write.resent ? ' (an earlier attempt of this call may have landed before it)' : '';
  if (order > 0) {
    const reason = `stored ${what} ${String(stored)} is newer than ${String(version)}${landed}`;
    return { status: 'stale', current, reason, mayHaveLanded: write.resent };
  }
  if (order === 0 && storedIsTombstone === write.tombstone) {
    return { status: 'duplicate', current, reason: `${what} ${String(version)} is already stored` };
  }
  // At an equal version a delete wins over a write, so a write of a deleted version is stale.
  if (order === 0 && storedIsTombstone) {
    const reason = `stored ${what} ${String(stored)} supersedes this write${landed}`;
    return { status: 'stale', current, reason, mayHaveLanded: write.resent };
  }
  return { status: 'again' };
}

function typeOfVersion(value: unknown): string {
  return value === undefined ? 'missing' : `a ${typeof value}`;
}

/** One versioned write: its request, sent by `send`, and what identifies it on the stored item. */
export interface VersionedWrite<T extends object> {
  readonly version: Version;
  readonly token: string;
  /** A tombstone write (deleteIfNotNewer): at an equal version it is a duplicate of a stored tombstone. @default false */
  readonly tombstone?: boolean;
  /** Sends the request once; resolves to the applied item. */
  readonly send: () => Promise<T>;
  /** The applied item when an earlier attempt of this call turns out to have landed, from the stored item. */
  readonly recovered: (current: T) => T;
}

/** Sends a versioned write through the kernel and classifies a failed condition with {@link classifyVersioned}. */
export function versionedWrite<T extends object>(
  operation: Operation,
  write: VersionedWrite<T>,
): Promise<WriteOutcome<T>> {
  const { table } = operation;
  const tombstone = write.tombstone ?? false;
  return conditionalWrite<WriteOutcome<T>>(operation, {
    send: async () => ({ status: 'applied', item: await write.send() }),
    classify: (stored, facts) => {
      const verdict = classifyVersioned(table, stored, { ...write, tombstone, resent: facts.resent });
      if (verdict.status === 'again') return { again: 'the stored item does not explain the failed condition' };
      const current = withoutBookkeeping(table, verdict.current) as T;
      const { reason } = verdict;
      switch (verdict.status) {
        case 'applied':
          return { result: { status: 'applied', item: write.recovered(current) }, reason };
        case 'rejected':
          return { result: { status: 'rejected', current, reason }, reason };
        case 'stale':
          return {
            result: verdict.mayHaveLanded
              ? { status: 'stale', current, mayHaveLanded: true }
              : { status: 'stale', current },
            reason,
          };
        case 'duplicate':
          return { result: { status: 'duplicate', current }, reason };
      }
    },
  });
}
