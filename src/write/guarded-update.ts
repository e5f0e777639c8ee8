/** @module guardedUpdate: one atomic conditional update, e.g. decrement stock only while enough is left. */
import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput } from '../errors.js';
import { and, type Condition } from '../expression/condition.js';
import { failedGuardParts, type Guard, type GuardPart, guardCondition, guardParts } from '../expression/guard.js';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, renderChanges, updateExpression } from '../expression/update.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { checkExpressionSizes } from '../rules/expressions.js';
import { type Item, keyOf, type Table, withoutBookkeeping } from '../table.js';
import { checkChanges } from './changes.js';
import { type CallOptions, checkOptions, Operation, storedAfterConditionFailure, visible } from './operation.js';
import type { GuardedOutcome } from './outcome.js';
import { holdsToken, newWriteToken, notOurEarlierAttempt, shiftTokenClauses } from './recent-tokens.js';
import { conditionalUpdateInput } from './update-input.js';

export interface GuardedUpdateInput {
  /** What to change, e.g. `{ quantity: decrement(2) }`. */
  readonly changes: Changes;
  /** What must hold before the change, e.g. `{ quantity: { gte: 2 } }`. @default the item must exist */
  readonly require?: Guard;
}

/** The UpdateItem request of {@link guardedUpdate} (pure). */
export function buildGuardedUpdate(
  table: Table,
  key: Item,
  changes: Changes,
  parts: readonly GuardPart[],
  token: string,
): UpdateCommandInput {
  const placeholders = new Placeholders();
  const clauses = renderChanges(changes, placeholders);
  clauses.set.push(...shiftTokenClauses(table, placeholders, token));
  const update = updateExpression(clauses);
  const guard = guardCondition(parts);
  // The item must exist and not be deleted; an SDK retry of an update that already landed finds its token among the
  // item's recent ones and fails instead of applying twice, even when other writers updated the item in between.
  const condition = and(liveItem(table), ...(guard ? [guard] : []), notOurEarlierAttempt(table, token));
  return conditionalUpdateInput(table, key, placeholders, { update, condition: condition(placeholders) }, 'ALL_NEW');
}

/**
 * "The item exists and is not a tombstone", with fixed placeholders: the same text for every guardedUpdate of a table,
 * so it is rendered once per table.
 */
function liveItem(table: Table): Condition {
  let rendered = renderedLiveItem.get(table);
  if (rendered === undefined) {
    const names = { '#rsKey': table.partitionKey, '#rsTomb': table.tombstoneAttribute };
    rendered = { names, text: 'attribute_exists(#rsKey) AND attribute_not_exists(#rsTomb)' };
    renderedLiveItem.set(table, rendered);
  }
  const { names, text } = rendered;
  return (placeholders) => {
    placeholders.fixed(names, {});
    return text;
  };
}

const renderedLiveItem = new WeakMap<Table, { names: Record<string, string>; text: string }>();

/**
 * Applies `changes` in one atomic request only while `require` holds; never reads first, never loops on a failed
 * guard (an atomic guarded update that failed would fail again). Twelve concurrent orders against a stock of 10 give
 * exactly 10 `applied` and 2 `rejected`, and the stock never goes below 0.
 *
 * A lost response that the SDK retries is recognised by its write token and reported `applied` once, even when other
 * writers updated the item in between: the item keeps the tokens of its last 16 writes.
 *
 * @example
 * ```ts
 * import { decrement, defineTable, guardedUpdate } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const stock = defineTable({ client, name: 'stock', partitionKey: 'sku' });
 * const outcome = await guardedUpdate(stock, { sku: 'A-1' }, {
 *   changes: { quantity: decrement(2) },
 *   require: { quantity: { gte: 2 } },
 * });
 * if (outcome.status === 'rejected') console.log(outcome.reason); // "quantity >= 2"
 * ```
 */
export async function guardedUpdate<T extends object = Item>(
  table: Table,
  key: Item,
  input: GuardedUpdateInput,
  options: CallOptions = {},
): Promise<GuardedOutcome<T>> {
  checkOptions(options, [], 'guardedUpdate');
  const itemKey = keyOf(table, key, 'key');
  if (typeof input !== 'object' || input === null) throw invalidInput('input', 'must be { changes, require? }');
  checkOptions(input, ['changes', 'require'], 'guardedUpdate input');
  checkChanges(table, itemKey, input.changes, 'changes', { allowVersion: true });
  const parts = guardParts(input.require ?? {}, 'require');
  const token = newWriteToken();
  const request = buildGuardedUpdate(table, itemKey, input.changes, parts, token);
  checkExpressionSizes(request, 'changes');
  const operation = new Operation(table, 'guardedUpdate', itemKey, options);
  return operation.run(async (): Promise<GuardedOutcome<T>> => {
    try {
      const result = await operation.send(() => table.client.send(new UpdateCommand(request)));
      return { status: 'applied', item: withoutBookkeeping(table, result.Attributes ?? {}) as T };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const stored = visible(table, await storedAfterConditionFailure(operation, error));
      if (stored === undefined) return { status: 'missing' };
      const current = withoutBookkeeping(table, stored) as T;
      if (holdsToken(table, stored, token)) {
        operation.reason = 'an earlier attempt of this call was applied (its response was lost)';
        return { status: 'applied', item: current };
      }
      const failed = failedGuardParts(parts, stored).map((part) => part.label);
      // Without ALL_OLD (dynalite) the item read afterwards may already satisfy the guard again.
      const reason = failed.length > 0 ? failed.join(' AND ') : 'the guard did not hold when the update was evaluated';
      operation.reason = reason;
      return { status: 'rejected', current, reason, failed };
    }
  });
}
