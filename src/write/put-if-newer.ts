/** @module putIfNewer: store an item only if its version is newer than the stored one, in one request. */
import { PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { type CallOptions, checkOptions, Operation } from '../request/operation.js';
import { newWriteToken } from '../request/write-token.js';
import { checkVersion, type Item, keyOf, type Table, type Version, withoutBookkeeping } from '../table.js';
import { checkPutItem } from './changes.js';
import type { WriteOutcome } from './outcome.js';
import { newerThanStoredExpression, versionedWrite } from './versioned.js';

/** The PutItem request of {@link putIfNewer} (pure). */
export function buildPutIfNewer(table: Table, item: Item, token: string): PutCommandInput {
  // The whole item is replaced, so a newer put also clears a tombstone; its token tells a resend it landed.
  // Object.assign, not a spread: with a spread of the caller's item this function measured ten times slower (1.8 µs).
  const stored: Item = Object.assign({}, withoutBookkeeping(table, item));
  stored[table.writeTokenAttribute] = token;
  return {
    TableName: table.name,
    Item: stored,
    ...newerThanStoredExpression(table, item[table.versionAttribute] as Version),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * Stores `item` unless the stored item has the same or a newer version: the version-monotonic write of a stream
 * consumer. Stale and duplicate are outcomes, not errors: version 41 never overwrites 42.
 *
 * @example
 * ```ts
 * import { defineTable, putIfNewer } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
 * const outcome = await putIfNewer(state, { deviceId: 'd-1', version: 42, temperature: 21.5 });
 * if (outcome.status === 'stale') console.log('skipped: stored version', outcome.current.version);
 * ```
 */
export async function putIfNewer<T extends object>(
  table: Table,
  item: T,
  options: CallOptions = {},
): Promise<WriteOutcome<T>> {
  checkOptions(options, [], 'putIfNewer');
  // Typed items (interfaces) have no index signature; the checks below read them as plain records.
  const record = item as Item;
  const key = keyOf(table, record, 'item');
  checkVersion(record[table.versionAttribute], `item.${table.versionAttribute}`);
  checkPutItem(table, record, 'item');
  const operation = new Operation(table, 'putIfNewer', key, options);
  const token = newWriteToken();
  const input = buildPutIfNewer(table, record, token);
  const version = record[table.versionAttribute] as Version;
  return versionedWrite(operation, {
    version,
    token,
    send: async () => {
      await table.client.send(new PutCommand(input));
      return item;
    },
    recovered: () => item,
  });
}
