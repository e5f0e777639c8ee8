/** @module guardedUpdate: one atomic conditional update, e.g. decrement stock only while enough is left. */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput } from '../errors.js';
import { and, type Condition } from '../expression/condition.js';
import { failedGuardParts, type Guard, type GuardPart, guardCondition, guardParts } from '../expression/guard.js';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, renderChanges, updateExpression } from '../expression/update.js';
import { sendConditional } from '../request/conditional-write.js';
import { type CallOptions, checkOptions, Operation } from '../request/operation.js';
import { readConsistently, visible } from '../request/stored.js';
import { transactOne } from '../request/transact-one.js';
import { conditionalUpdateInput } from '../request/update-input.js';
import { changeTokenAttribute, newWriteToken } from '../request/write-token.js';
import { checkExpressionSizes } from '../rules/expressions.js';
import { type Item, keyOf, type Table, withoutBookkeeping } from '../table.js';
import { checkChanges } from './changes.js';
import type { GuardedOutcome } from './outcome.js';

export interface GuardedUpdateInput {
  /** What to change, e.g. `{ quantity: decrement(2) }`. */
  readonly changes: Changes;
  /** What must hold before the change, e.g. `{ quantity: { gte: 2 } }`. @default the item must exist */
  readonly require?: Guard;
}

/**
 * The request of {@link guardedUpdate} (pure): the conditional update as a one-action TransactWriteItems whose
 * ClientRequestToken is `token`, so that DynamoDB applies it at most once however often it is resent. It also stores
 * `token` as the item's change token, so that an updateWithLock that read the item before it conflicts.
 */
export function buildGuardedUpdate(
  table: Table,
  key: Item,
  changes: Changes,
  parts: readonly GuardPart[],
  token: string,
): TransactWriteCommandInput {
  const placeholders = new Placeholders();
  const clauses = renderChanges(changes, placeholders);
  // A fresh change token (the transaction's own): updateWithLock conditions its put on the one it read, so it sees this
  // write although the version does not change (versions belong to version-monotonic writers). The write token stays:
  // a versioned write's resend recognises its own attempt by it.
  clauses.set.push(`${placeholders.name(changeTokenAttribute(table))} = ${placeholders.value(token)}`);
  const update = updateExpression(clauses);
  const guard = guardCondition(parts);
  // The item must exist and not be deleted.
  const condition = and(liveItem(table), ...(guard ? [guard] : []));
  const input = conditionalUpdateInput(
    table,
    key,
    placeholders,
    { update, condition: condition(placeholders) },
    'NONE',
  );
  return transactOne({ update: input }, token);
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
 * Exactly once: the update is sent as a one-action TransactWriteItems with a ClientRequestToken, so a resend after a
 * lost response (by the SDK, or by racesafe once the SDK gave up) applies nothing and succeeds, however many other
 * writes landed in between (DynamoDB keeps the token for 10 minutes; racesafe resends within 20 s by default). The
 * price: a transactional write costs twice the write units, and the `applied` item is read right after the commit
 * (one consistent GetItem), so it may already include later writes of other callers. See docs/exactness.md.
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
  checkChanges(table, itemKey, input.changes, 'changes', { allowVersion: true, bookkeeping: 'change' });
  const parts = guardParts(input.require ?? {}, 'require');
  const token = newWriteToken();
  const request = buildGuardedUpdate(table, itemKey, input.changes, parts, token);
  checkExpressionSizes(request, 'changes');
  const operation = new Operation(table, 'guardedUpdate', itemKey, options);
  return operation.run(async (): Promise<GuardedOutcome<T>> => {
    const refused = await sendConditional<GuardedOutcome<T> | undefined>(operation, {
      send: async () => {
        await table.client.send(new TransactWriteCommand(request));
        return undefined;
      },
      // A resend of a commit that landed succeeds, so a failed condition is never our own earlier attempt.
      classify: (stored) => classifyGuarded<T>(table, parts, visible(table, stored)),
    });
    if (refused !== undefined) return refused;
    // A transaction returns no item: read it right after the commit (it may include later writes already).
    const after = visible(table, await readConsistently(operation, itemKey));
    return { status: 'applied', item: withoutBookkeeping(table, after ?? itemKey) as T };
  });
}

/** What a failed guard means (pure): the item is missing, or names the guard parts that did not hold. */
export function classifyGuarded<T extends object>(
  table: Table,
  parts: readonly GuardPart[],
  stored: Item | undefined,
): { readonly result: GuardedOutcome<T>; readonly reason: string } {
  if (stored === undefined) return { result: { status: 'missing' }, reason: 'no item is stored' };
  const current = withoutBookkeeping(table, stored) as T;
  const failed = failedGuardParts(parts, stored).map((part) => part.label);
  // Without ALL_OLD (dynalite) the item read afterwards may already satisfy the guard again.
  const reason = failed.length > 0 ? failed.join(' AND ') : 'the guard did not hold when the update was evaluated';
  return { result: { status: 'rejected', current, reason, failed }, reason };
}
