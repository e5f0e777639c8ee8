/**
 * @module A table's items and keys against DynamoDB's rules and racesafe's reserved names: one pass over the item
 * that validates every name and value and sums its size, bookkeeping included.
 */
import { invalidInput } from '../errors.js';
import { type Item, isReservedAttribute, type Table } from '../table.js';
import { keyValueRule } from './keys.js';
import { maxItemBytes, maxPartitionKeyBytes, maxSortKeyBytes } from './limits.js';
import { attributeNameRule } from './names.js';
import { utf8Length } from './strings.js';
import { storedValueSize } from './values.js';

/**
 * Why an attribute name is racesafe's own, or undefined when it is the user's to write: the names of
 * `reservedAttributeNames` (the write token, the tombstone mark) and the legacy `<writeTokenAttribute><digits>`
 * register. A user attribute of that name would be dropped, overwritten or read as a delete, so it is refused.
 */
export function reservedNameRule(table: Table, name: string): string | undefined {
  if (!isReservedAttribute(table, name)) return undefined;
  if (name === table.tombstoneAttribute)
    return 'is reserved: racesafe marks deleted items with it (tombstoneAttribute)';
  const prefix = table.writeTokenAttribute;
  return `is reserved: racesafe keeps its write token in ${prefix} (writeTokenAttribute; ${prefix}<digits> too)`;
}

/**
 * Validates a whole item for a put and refuses one DynamoDB would not store as given: every attribute name (including
 * reserved ones) and value, and the size "including both attribute name ... and attribute value lengths" plus
 * `bookkeepingBytes`, what racesafe adds to the item (its write token) before sending.
 */
export function checkItem(table: Table, item: Item, field: string, bookkeepingBytes: number): void {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidInput(field, 'must be an object');
  let size = bookkeepingBytes;
  const rules = table.valueRules;
  for (const name of Object.keys(item)) {
    const rule = attributeNameRule(name) ?? reservedNameRule(table, name);
    if (rule !== undefined) throw invalidInput(`${field}.${name}`, rule);
    const value = item[name];
    if (value === undefined) {
      if (rules.dropsUndefined) continue;
      throw invalidInput(`${field}.${name}`, 'is undefined, which DynamoDB cannot store; leave the attribute out');
    }
    size += utf8Length(name) + storedValueSize(value, field, name, rules);
  }
  checkSize(size, field, 'item');
}

/** Refuses a size over DynamoDB's 400 KB item limit. */
export function checkSize(size: number, field: string, what: string): void {
  if (size > maxItemBytes) {
    throw invalidInput(
      field,
      `the ${what} would be ${size} bytes with racesafe's bookkeeping; DynamoDB items must be at most 400 KB (${maxItemBytes} bytes)`,
    );
  }
}

/**
 * The key of an item (or a key object), validated by the key rules: each key attribute present, of the table's
 * declared type when `defineTable` was told it, non-empty and within 2048 (partition) or 1024 (sort) bytes.
 */
export function checkedKey(table: Table, source: Item, field: string): Item {
  if (typeof source !== 'object' || source === null) throw invalidInput(field, 'must be an object');
  const partition = source[table.partitionKey];
  const partitionRule = keyValueRule(partition, table.partitionKeyType, maxPartitionKeyBytes);
  if (partitionRule !== undefined) throw invalidInput(`${field}.${table.partitionKey}`, partitionRule);
  if (table.sortKey === undefined) return { [table.partitionKey]: partition };
  const sort = source[table.sortKey];
  const sortRule = keyValueRule(sort, table.sortKeyType, maxSortKeyBytes);
  if (sortRule !== undefined) throw invalidInput(`${field}.${table.sortKey}`, sortRule);
  return { [table.partitionKey]: partition, [table.sortKey]: sort };
}
