/** @module The table handle: the caller's DocumentClient, the table's keys and version attribute, and item rules. */

import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption } from './errors.js';
import type { Observer } from './observe/events.js';
import { checkedKey, checkSize, reservedNameRule } from './rules/items.js';
import type { KeyType } from './rules/keys.js';
import { maxItemBytes } from './rules/limits.js';
import { checkDistinctRoles, checkOptionValues, type OptionRules, optionRules } from './rules/options.js';
import { compareVersions, type Version } from './rules/order.js';
import { isWellFormed, utf8Length } from './rules/strings.js';
import { storedValueSize, type ValueRules } from './rules/values.js';

/** An item as the DocumentClient reads and writes it. */
export type Item = Record<string, unknown>;

export interface TableOptions {
  /** The caller's DocumentClient. racesafe never creates or destroys it. */
  readonly client: DynamoDBDocumentClient;
  /** The table's name. */
  readonly name: string;
  /** The partition key attribute. */
  readonly partitionKey: string;
  /**
   * The partition key's type as the table declares it (`S`, `N` or `B`), so that a key of another type is refused
   * before sending. {@link describeTable} reads it from the table. @default any of the three (DynamoDB decides)
   */
  readonly partitionKeyType?: KeyType;
  /** The sort key attribute, if the table has one. @default none */
  readonly sortKey?: string;
  /** The sort key's type as the table declares it. @default any of the three (DynamoDB decides) */
  readonly sortKeyType?: KeyType;
  /** Where each item keeps its version. @default 'version' */
  readonly versionAttribute?: string;
  /**
   * Where a version-monotonic write (putIfNewer, updateIfNewer, a tombstone) stores its write token, so that a resend
   * after a lost response recognises its own earlier attempt. One short attribute; other writes leave it alone. Reserved: items may not use it.
   * @default '_rsToken'
   */
  readonly writeTokenAttribute?: string;
  /** Marks a tombstone left by `deleteIfNotNewer`. Reserved: items may not use it. @default '_rsDeleted' */
  readonly tombstoneAttribute?: string;
  /** Receives every outcome of every operation on this table. @default none */
  readonly observe?: Observer | readonly Observer[];
}

/** A table handle: plain data, cheap to create, safe to share. */
export interface Table {
  readonly client: DynamoDBDocumentClient;
  readonly name: string;
  readonly partitionKey: string;
  readonly partitionKeyType: KeyType | undefined;
  readonly sortKey: string | undefined;
  readonly sortKeyType: KeyType | undefined;
  readonly versionAttribute: string;
  readonly writeTokenAttribute: string;
  readonly tombstoneAttribute: string;
  readonly observers: readonly Observer[];
  /** How the client marshals values racesafe checks items against (read from its translateConfig). */
  readonly valueRules: ValueRules;
}

const keyType = optionRules.oneOf('S', 'N', 'B');
const tableOptionRules: OptionRules<TableOptions> = {
  client: (value) =>
    typeof (value as { send?: unknown } | null)?.send === 'function' ? undefined : 'must be a DynamoDBDocumentClient',
  name: optionRules.nonEmptyString,
  partitionKey: optionRules.attributeName,
  partitionKeyType: keyType,
  sortKey: optionRules.attributeName,
  sortKeyType: keyType,
  versionAttribute: optionRules.attributeName,
  writeTokenAttribute: optionRules.attributeName,
  tombstoneAttribute: optionRules.attributeName,
  observe: optionRules.observers,
};

/**
 * Describes a table for racesafe's primitives. Declare the key types (`partitionKeyType`, `sortKeyType`) to have a
 * key of the wrong type refused before sending, or let {@link describeTable} read them from the table once.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { defineTable } from 'racesafe';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId', partitionKeyType: 'S' });
 * ```
 */
export function defineTable(options: TableOptions): Table {
  if (typeof options !== 'object' || options === null) throw invalidOption('defineTable', 'options must be an object');
  for (const required of ['client', 'name', 'partitionKey'] as const) {
    if (options[required] === undefined) throw invalidOption(required, 'is required');
  }
  checkOptionValues(options, tableOptionRules, 'defineTable');
  if (options.sortKeyType !== undefined && options.sortKey === undefined) {
    throw invalidOption('defineTable.sortKeyType', 'needs sortKey');
  }
  const versionAttribute = options.versionAttribute ?? 'version';
  const writeTokenAttribute = options.writeTokenAttribute ?? '_rsToken';
  const tombstoneAttribute = options.tombstoneAttribute ?? '_rsDeleted';
  // Each role needs its own attribute: "Two document paths overlap" otherwise, at the first update.
  checkDistinctRoles(
    {
      partitionKey: options.partitionKey,
      sortKey: options.sortKey,
      versionAttribute,
      writeTokenAttribute,
      tombstoneAttribute,
    },
    'defineTable',
  );
  const observe = options.observe;
  const table: Table = {
    client: options.client,
    name: options.name,
    partitionKey: options.partitionKey,
    partitionKeyType: options.partitionKeyType,
    sortKey: options.sortKey,
    sortKeyType: options.sortKeyType,
    versionAttribute,
    writeTokenAttribute,
    tombstoneAttribute,
    observers: observe === undefined ? [] : typeof observe === 'function' ? [observe] : [...observe],
    valueRules: { dropsUndefined: removesUndefinedValues(options.client) },
  };
  // The register's names (`<writeTokenAttribute><digits>`) may not take another role's attribute either.
  for (const role of ['partitionKey', 'sortKey', 'versionAttribute', 'tombstoneAttribute'] as const) {
    const attribute = table[role];
    if (attribute !== undefined && reservedNameRule(table, attribute)?.includes('write token')) {
      throw invalidOption(`defineTable.${role}`, `'${attribute}' is one of the write-token register's names`);
    }
  }
  return table;
}

/** Whether the client drops undefined map values: lib-dynamodb keeps its translateConfig on the client's config. */
function removesUndefinedValues(client: DynamoDBDocumentClient): boolean {
  const config = (
    client as { config?: { translateConfig?: { marshallOptions?: { removeUndefinedValues?: unknown } } } }
  ).config;
  return config?.translateConfig?.marshallOptions?.removeUndefinedValues === true;
}

/**
 * {@link defineTable} with the keys and their types read from the table with one DescribeTable request, so that keys
 * of the wrong type are refused before sending. Needs `dynamodb:DescribeTable`; declare `partitionKeyType` on
 * {@link defineTable} instead where the role lacks it.
 *
 * @example
 * ```ts
 * import { describeTable } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const orders = await describeTable({ client, name: 'orders' });
 * ```
 */
export async function describeTable(
  options: Omit<TableOptions, 'partitionKey' | 'partitionKeyType' | 'sortKey' | 'sortKeyType'>,
): Promise<Table> {
  if (typeof options?.client?.send !== 'function') throw invalidOption('client', 'must be a DynamoDBDocumentClient');
  if (typeof options.name !== 'string' || options.name === '')
    throw invalidOption('name', 'must be a non-empty string');
  // A DocumentClient passes low-level commands through unchanged.
  const dynamodb = options.client as unknown as DynamoDBClient;
  const described = await dynamodb.send(new DescribeTableCommand({ TableName: options.name }));
  const schema = described.Table?.KeySchema ?? [];
  const types = new Map((described.Table?.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  const partitionKey = schema.find((element) => element.KeyType === 'HASH')?.AttributeName;
  const sortKey = schema.find((element) => element.KeyType === 'RANGE')?.AttributeName;
  if (partitionKey === undefined)
    throw invalidOption('name', `table ${options.name} has no partition key in its description`);
  const partitionKeyType = types.get(partitionKey) as KeyType | undefined;
  const sortKeyType = sortKey === undefined ? undefined : (types.get(sortKey) as KeyType | undefined);
  return defineTable({
    ...options,
    partitionKey,
    ...(partitionKeyType === undefined ? {} : { partitionKeyType }),
    ...(sortKey === undefined ? {} : { sortKey }),
    ...(sortKeyType === undefined ? {} : { sortKeyType }),
  });
}

/** The key attributes of a table, in order. */
export function keyAttributes(table: Table): string[] {
  return table.sortKey === undefined ? [table.partitionKey] : [table.partitionKey, table.sortKey];
}

/**
 * The key of an item (or a key object), validated by DynamoDB's key rules (see `src/rules/items.ts`): each key
 * attribute present, of the table's declared type, non-empty and within its size. `field` names the argument in errors.
 */
export function keyOf(table: Table, source: Item, field: string): Item {
  return checkedKey(table, source, field);
}

/** Validates a version: a positive safe integer or a non-empty, valid Unicode string. */
export function checkVersion(version: unknown, field: string): asserts version is Version {
  if (typeof version === 'number') {
    if (!Number.isSafeInteger(version) || version <= 0) {
      throw invalidInput(
        field,
        'a numeric version must be a positive safe integer (1 to 2^53-1), not NaN or a fraction',
      );
    }
    return;
  }
  if (typeof version === 'string') {
    if (version === '') throw invalidInput(field, 'a string version must be non-empty');
    if (!isWellFormed(version)) throw invalidInput(field, 'a string version must be valid Unicode (no lone surrogate)');
    return;
  }
  throw invalidInput(field, 'version is required: a positive safe integer or an ordered (zero-padded) string');
}

export { compareVersions, type Version };

/**
 * Zero-pads a decimal sequence number so that string order is numeric order. Kinesis sequence numbers have up to 56
 * digits (more than a DynamoDB number's 38), so store them as padded strings.
 *
 * @example
 * ```ts
 * import { orderedVersion } from 'racesafe';
 *
 * const version = orderedVersion('49590338271490256608559692538361571095921575989136588898');
 * ```
 */
export function orderedVersion(sequenceNumber: string | bigint, width = 64): string {
  const digits = String(sequenceNumber);
  if (!/^\d+$/.test(digits)) throw invalidInput('sequenceNumber', 'must be a non-negative decimal integer');
  if (digits.length > width) throw invalidInput('sequenceNumber', `must have at most ${width} digits`);
  return digits.padStart(width, '0');
}

export { maxItemBytes };

/** The item's size as DynamoDB counts it (see `src/rules/values.ts`); throws on a value DynamoDB cannot store. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const name of Object.keys(item)) size += attributeSize(name, item[name]);
  return size;
}

/** The stored size of one attribute, name included, by DynamoDB's rules (0 for undefined: it is not stored). */
export function attributeSize(name: string, value: unknown): number {
  return value === undefined ? 0 : utf8Length(name) + storedValueSize(value, 'item', name, { dropsUndefined: true });
}

/** Rejects an item over DynamoDB's 400 KB limit before any request is sent. */
export function checkItemSize(item: Item, field: string): void {
  checkSize(itemSize(item), field, 'item');
}

/** Rejects a value DynamoDB cannot store as given anywhere in an item (NaN, Infinity, imprecise numbers, …). */
export function checkFiniteNumbers(value: unknown, field: string): void {
  storedValueSize(value, field, undefined, { dropsUndefined: true });
}

/** Whether a stored item is a tombstone left by `deleteIfNotNewer`. */
export function isTombstone(table: Table, item: Item | undefined): boolean {
  return item !== undefined && item[table.tombstoneAttribute] === true;
}

/**
 * The attribute names racesafe reserves on a table's items (the write token and the tombstone mark): users' items,
 * changes and guards must not use them. {@link isReservedAttribute} also recognises the `<writeTokenAttribute>0`…`15`
 * register of racesafe before 0.2, which old items may still carry.
 */
export function reservedAttributeNames(table: Table): readonly string[] {
  return [table.writeTokenAttribute, table.tombstoneAttribute];
}

/** Whether `name` is one of racesafe's reserved attributes on this table (see {@link reservedAttributeNames}). */
export function isReservedAttribute(table: Table, name: string): boolean {
  return name === table.tombstoneAttribute || isTokenAttribute(table, name);
}

/** The item without racesafe's bookkeeping attributes (the write token, the tombstone mark). */
export function withoutBookkeeping<T extends Item>(table: Table, item: T): T {
  // Runs on every write's hot path: plain loops, no regex, and items without bookkeeping are returned as they are.
  const names = Object.keys(item);
  if (!names.some((name) => isReservedAttribute(table, name))) return item;
  const copy: Item = {};
  for (const name of names) if (!isReservedAttribute(table, name)) copy[name] = item[name];
  return copy as T;
}

/**
 * Whether an attribute is the write token (`<writeTokenAttribute>`), or a slot of the token register that racesafe
 * before 0.2 kept (`<writeTokenAttribute><digits>`): old items may still carry it, and it is hidden and reserved too.
 */
export function isTokenAttribute(table: Table, name: string): boolean {
  const prefix = table.writeTokenAttribute.length;
  if (!name.startsWith(table.writeTokenAttribute)) return false;
  for (let i = prefix; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false; // not 0-9
  }
  return true;
}
