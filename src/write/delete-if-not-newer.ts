/** @module deleteIfNotNewer: a version-checked delete that, by default, leaves a tombstone so late events cannot resurrect the item. */
import { DeleteCommand, type DeleteCommandInput, PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidOption } from '../errors.js';
import { and, attributeNotExists, compare, or } from '../expression/condition.js';
import { Placeholders } from '../expression/placeholders.js';
import { type CallOptions, Operation } from '../request/operation.js';
import { visible } from '../request/stored.js';
import { newWriteToken } from '../request/write-token.js';
import { checkCallOptions } from '../rules/call-options.js';
import { reservedNameRule } from '../rules/items.js';
import { checkDistinctRoles, type OptionRules, optionRules } from '../rules/options.js';
import { checkVersion, type Item, keyOf, type Table, type Version, withoutBookkeeping } from '../table.js';
import type { DeleteOutcome } from './outcome.js';
import { versionedWrite } from './versioned.js';

export interface DeleteIfNotNewerOptions extends CallOptions {
  /**
   * `tombstone` replaces the item with a small marker that keeps its key and version, so a late event older than the
   * delete fails its version condition instead of recreating the item. `delete` removes the item; then a late older
   * put finds nothing stored and succeeds: the deleted item comes back. Use `delete` only when no older write can
   * arrive after the delete. @default 'tombstone'
   */
  readonly mode?: 'tombstone' | 'delete';
  /**
   * Lets DynamoDB's TTL remove tombstones: the attribute (the table's TTL attribute) and how long to keep them. After
   * expiry an older event could resurrect the item again, so keep tombstones longer than your source can redeliver
   * (Kinesis retention: up to 365 days; DynamoDB Streams: 24 hours). @default tombstones are kept
   */
  readonly tombstoneTtl?: { readonly attribute: string; readonly seconds: number };
}

const deleteOptionRules: OptionRules<Omit<DeleteIfNotNewerOptions, keyof CallOptions>> = {
  mode: optionRules.oneOf('tombstone', 'delete'),
  tombstoneTtl: optionRules.object<NonNullable<DeleteIfNotNewerOptions['tombstoneTtl']>>({
    attribute: optionRules.attributeName,
    // DynamoDB TTL reads epoch seconds; 1 second to 1000 years.
    seconds: optionRules.integerBetween(1, 1000 * 365 * 86400),
  }),
};

/** The request of {@link deleteIfNotNewer} (pure): a tombstone PutItem, or a conditional DeleteItem. */
export function buildDeleteIfNotNewer(
  table: Table,
  key: Item,
  version: Version,
  token: string,
  options: DeleteIfNotNewerOptions,
  now = Date.now(),
): { put: PutCommandInput } | { delete: DeleteCommandInput } {
  const placeholders = new Placeholders();
  const notNewer = (orEqual: boolean) =>
    or(attributeNotExists(table.partitionKey), compare(table.versionAttribute, orEqual ? '<=' : '<', version));
  if (options.mode === 'delete') {
    const ConditionExpression = notNewer(true)(placeholders);
    return {
      delete: {
        TableName: table.name,
        Key: key,
        ConditionExpression,
        ...placeholders.attributes(),
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }
  // A live item of the same version may be deleted; a tombstone of the same version is a duplicate delete.
  const ConditionExpression = or(
    notNewer(false),
    and(compare(table.versionAttribute, '=', version), attributeNotExists(table.tombstoneAttribute)),
  )(placeholders);
  const ttl = options.tombstoneTtl;
  return {
    put: {
      TableName: table.name,
      Item: {
        ...key,
        [table.versionAttribute]: version,
        [table.tombstoneAttribute]: true,
        [table.writeTokenAttribute]: token,
        ...(ttl === undefined ? {} : { [ttl.attribute]: Math.floor(now / 1000) + ttl.seconds }),
      },
      ConditionExpression,
      ...placeholders.attributes(),
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Deletes the item unless a newer version is stored (`version <= :v`). A delete event older than the stored item is
 * `stale`; a repeated delete is `duplicate` (tombstone mode).
 *
 * @example
 * ```ts
 * import { defineTable, deleteIfNotNewer } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
 * await deleteIfNotNewer(state, { deviceId: 'd-1' }, 43, { tombstoneTtl: { attribute: 'expiresAt', seconds: 7 * 86400 } });
 * ```
 */
export async function deleteIfNotNewer<T extends object = Item>(
  table: Table,
  key: Item,
  version: Version,
  options: DeleteIfNotNewerOptions = {},
): Promise<DeleteOutcome<T>> {
  checkCallOptions(options, deleteOptionRules, 'deleteIfNotNewer');
  const ttl = options.tombstoneTtl;
  if (ttl !== undefined) {
    if (ttl.attribute === undefined || ttl.seconds === undefined) {
      throw invalidOption(
        'deleteIfNotNewer.tombstoneTtl',
        'needs an attribute name and a positive whole number of seconds',
      );
    }
    // The TTL epoch must land in an attribute of its own: over the version it makes every later write stale, over a
    // key it writes the tombstone to another item.
    checkDistinctRoles(
      {
        partitionKey: table.partitionKey,
        sortKey: table.sortKey,
        versionAttribute: table.versionAttribute,
        tombstoneAttribute: table.tombstoneAttribute,
        'tombstoneTtl.attribute': ttl.attribute,
      },
      'deleteIfNotNewer',
    );
    const reserved = reservedNameRule(table, ttl.attribute);
    if (reserved !== undefined) throw invalidOption('deleteIfNotNewer.tombstoneTtl.attribute', reserved);
  }
  const itemKey = keyOf(table, key, 'key');
  checkVersion(version, 'version');
  const token = newWriteToken();
  const request = buildDeleteIfNotNewer(table, itemKey, version, token, options);
  const operation = new Operation(table, 'deleteIfNotNewer', itemKey, options);
  const outcome = await versionedWrite<Item>(operation, {
    version,
    token,
    tombstone: 'put' in request,
    send: async () => {
      const result =
        'put' in request
          ? await table.client.send(new PutCommand(request.put))
          : await table.client.send(new DeleteCommand(request.delete));
      return { previous: visible(table, result.Attributes) };
    },
    // The earlier attempt's response, with the item it replaced, was lost.
    recovered: () => ({ previous: undefined }),
  });
  if (outcome.status !== 'applied') return outcome as DeleteOutcome<T>;
  const previous = outcome.item.previous as Item | undefined;
  return {
    status: 'applied',
    previous: previous === undefined ? undefined : (withoutBookkeeping(table, previous) as T),
  };
}
