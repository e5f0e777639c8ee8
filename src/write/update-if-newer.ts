/** @module updateIfNewer: apply changes only if this version is newer than the stored one, in one request. */
import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, renderChanges, updateExpression } from '../expression/update.js';
import { type CallOptions, checkOptions, Operation } from '../request/operation.js';
import { conditionalUpdateInput } from '../request/update-input.js';
import { newWriteToken } from '../request/write-token.js';
import { checkExpressionSizes } from '../rules/expressions.js';
import { checkVersion, type Item, keyOf, type Table, type Version, withoutBookkeeping } from '../table.js';
import { checkChanges } from './changes.js';
import type { WriteOutcome } from './outcome.js';
import { newerThanStored, versionedWrite } from './versioned.js';

/** The UpdateItem request of {@link updateIfNewer} (pure). */
export function buildUpdateIfNewer(
  table: Table,
  key: Item,
  version: Version,
  changes: Changes,
  token: string,
): UpdateCommandInput {
  const placeholders = new Placeholders();
  const clauses = renderChanges(changes, placeholders);
  clauses.set.push(
    `${placeholders.name(table.versionAttribute)} = ${placeholders.value(version)}`,
    // The token goes with the version: a resend that finds both knows that its earlier attempt landed.
    `${placeholders.name(table.writeTokenAttribute)} = ${placeholders.value(token)}`,
  );
  // A newer update of a deleted item brings it back: the tombstone mark must go.
  clauses.remove.push(placeholders.name(table.tombstoneAttribute));
  const update = updateExpression(clauses);
  const condition = newerThanStored(table, version)(placeholders);
  return conditionalUpdateInput(table, key, placeholders, { update, condition }, 'ALL_NEW');
}

/**
 * Applies `changes` and sets the version, unless the stored item has the same or a newer version. Unlike
 * {@link putIfNewer} it keeps attributes it does not change.
 *
 * @example
 * ```ts
 * import { defineTable, increment, updateIfNewer } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId' });
 * await updateIfNewer(orders, { orderId: 'o-1' }, 7, { status: 'shipped', shipments: increment(1) });
 * ```
 */
export async function updateIfNewer<T extends object = Item>(
  table: Table,
  key: Item,
  version: Version,
  changes: Changes,
  options: CallOptions = {},
): Promise<WriteOutcome<T>> {
  checkOptions(options, [], 'updateIfNewer');
  const itemKey = keyOf(table, key, 'key');
  checkVersion(version, 'version');
  checkChanges(table, itemKey, changes, 'changes', { version, bookkeeping: 'token' });
  const token = newWriteToken();
  const input = buildUpdateIfNewer(table, itemKey, version, changes, token);
  checkExpressionSizes(input, 'changes');
  const operation = new Operation(table, 'updateIfNewer', itemKey, options);
  return versionedWrite(operation, {
    version,
    token,
    send: async () => {
      const result = await table.client.send(new UpdateCommand(input));
      return withoutBookkeeping(table, result.Attributes ?? {}) as T;
    },
    recovered: (current) => current,
  });
}
