/** @module getCurrent: read an item as racesafe's writers see it (tombstones read as absent). */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { checkOptionValues, type OptionRules, optionRules } from '../rules/options.js';
import { type Item, isTombstone, keyOf, type Table, withoutBookkeeping } from '../table.js';

export interface GetCurrentOptions {
  /** A strongly consistent read. @default true */
  readonly consistent?: boolean;
}

const getCurrentRules: OptionRules<GetCurrentOptions> = { consistent: optionRules.boolean };

/**
 * Reads one item; a tombstone left by `deleteIfNotNewer` reads as `undefined`, and bookkeeping attributes are removed.
 *
 * @example
 * ```ts
 * import { defineTable, getCurrent } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
 * const device = await getCurrent(state, { deviceId: 'd-1' });
 * ```
 */
export async function getCurrent<T extends object = Item>(
  table: Table,
  key: Item,
  options: GetCurrentOptions = {},
): Promise<T | undefined> {
  checkOptionValues(options, getCurrentRules, 'getCurrent');
  const Key = keyOf(table, key, 'key');
  const result = await table.client.send(
    new GetCommand({ TableName: table.name, Key, ConsistentRead: options.consistent ?? true }),
  );
  const item = result.Item;
  return item === undefined || isTombstone(table, item) ? undefined : (withoutBookkeeping(table, item) as T);
}
