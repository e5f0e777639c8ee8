/** @module The stored item behind a failed condition: from ALL_OLD in the same round trip, else one consistent read. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsErrorName } from '../retry/backoff.js';
import { type Item, isTombstone, type Table } from '../table.js';
import type { Operation } from './operation.js';

interface WireReason {
  readonly Code?: string;
  readonly Item?: Record<string, never>;
}

/**
 * A condition that evaluated to false: `ConditionalCheckFailedException` of a single-item write, or a cancelled
 * transaction whose only failing reasons are `ConditionalCheckFailed` (the single-action transactions of
 * guardedUpdate and updateWithLock).
 */
export function isConditionFailure(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name === 'ConditionalCheckFailedException') return true;
  if (name !== 'TransactionCanceledException') return false;
  const failing = cancellationReasons(error).filter((reason) => reason.Code !== 'None');
  return failing.length > 0 && failing.every((reason) => reason.Code === 'ConditionalCheckFailed');
}

function cancellationReasons(error: unknown): readonly WireReason[] {
  const reasons = (error as { CancellationReasons?: unknown }).CancellationReasons;
  return Array.isArray(reasons) ? (reasons as WireReason[]) : [];
}

/**
 * The stored item that made a condition fail, unmarshalled (lib-dynamodb unmarshalls neither `error.Item` nor
 * `CancellationReasons[].Item`). Undefined when the engine did not return it (dynalite ignores
 * ReturnValuesOnConditionCheckFailure) or nothing is stored.
 */
export function conditionFailureItem(error: unknown): Item | undefined {
  const direct = (error as { Item?: Record<string, never> }).Item;
  if (direct !== undefined) return unmarshall(direct) as Item;
  const failed = cancellationReasons(error).find((reason) => reason.Code === 'ConditionalCheckFailed');
  return failed?.Item === undefined ? undefined : (unmarshall(failed.Item) as Item);
}

/** A strongly consistent read: the fallback when a failed condition did not return the stored item. */
export async function readConsistently(operation: Operation<Table>, key: Item): Promise<Item | undefined> {
  const { table } = operation;
  // A read is idempotent: resent after a lost response too, without making the call's writes "may have landed".
  const result = await operation.send(
    () => table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
    'ambiguous',
    { read: true },
  );
  return result.Item;
}

/**
 * The stored item behind a condition failure: from ALL_OLD when the engine returned it, else a consistent read.
 * ALL_OLD returns nothing when no item is stored, so a missing item costs the read too (and reads as absent).
 */
export async function storedAfterConditionFailure(
  operation: Operation<Table>,
  error: unknown,
): Promise<Item | undefined> {
  return conditionFailureItem(error) ?? (await readConsistently(operation, operation.key));
}

/** The item as the caller sees it: tombstones read as absent. */
export function visible(table: Table, item: Item | undefined): Item | undefined {
  return isTombstone(table, item) ? undefined : item;
}
