/** @module Decodes a cancelled transaction: one reason per action, with its key and the stored item unmarshalled. */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { CancellationReason } from '../errors.js';
import type { Item } from '../table.js';

interface WireReason {
  Code?: string;
  Message?: string;
  Item?: Record<string, never>;
}

/** Where each action went, in order: the table and key to report with its reason. */
export interface ActionTarget {
  readonly table: string;
  readonly key: Item;
}

/**
 * Pairs DynamoDB's `CancellationReasons` (one per action, in request order; `None` for actions that were fine) with
 * the actions. lib-dynamodb leaves `Item` in wire format, so it is unmarshalled here.
 */
export function decodeCancellation(error: unknown, targets: readonly ActionTarget[]): CancellationReason[] {
  const wire = ((error as { CancellationReasons?: WireReason[] }).CancellationReasons ?? []) as WireReason[];
  return targets.map((target, index) => {
    const reason = wire[index];
    return {
      index,
      table: target.table,
      key: target.key,
      code: reason?.Code ?? 'Unknown',
      message: reason?.Message,
      item: reason?.Item === undefined ? undefined : (unmarshall(reason.Item) as Item),
    };
  });
}

/** Codes for which sending the same transaction again can succeed. */
const transientCodes = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** True when every failing action failed for a transient reason (a conflict with another transaction, or throttling). */
export function isTransientCancellation(reasons: readonly CancellationReason[]): boolean {
  const failing = reasons.filter((reason) => reason.code !== 'None');
  return failing.length > 0 && failing.every((reason) => transientCodes.has(reason.code));
}
