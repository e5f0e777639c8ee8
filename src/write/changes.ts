/**
 * @module The check step of writes: items and `changes` against DynamoDB's rules (src/rules/), the table's keys and
 * racesafe's reserved attributes, with the size racesafe's own bookkeeping adds.
 */
import { invalidInput } from '../errors.js';
import { type Changes, changeOperand, isUpdateOperation } from '../expression/update.js';
import { checkItem, checkSize, reservedNameRule } from '../rules/items.js';
import { attributeNameRule } from '../rules/names.js';
import { utf8Length } from '../rules/strings.js';
import { storedValueSize } from '../rules/values.js';
import { type Item, keyAttributes, type Table, type Version } from '../table.js';

/** Length of a write token (16 base64url characters: see `newWriteToken`). */
const writeTokenLength = 16;

/**
 * What racesafe adds to an item before sending it: a version-monotonic write (put, update, tombstone) its write
 * token; guardedUpdate, updateWithLock and a transaction's puts and updates a change token (see changeTokenAttribute).
 * Counted so that an item at the limit by the user's measure is refused here, not by DynamoDB ("Item size has
 * exceeded the maximum allowed size").
 */
export function bookkeepingBytes(table: Table, write: 'token' | 'change' | 'none'): number {
  if (write === 'none') return 0;
  // The change token's name is the write token's and one digit (see changeTokenAttribute).
  return utf8Length(table.writeTokenAttribute) + (write === 'change' ? 1 : 0) + writeTokenLength;
}

/** Validates an item a put stores whole (names, values, reserved names, size with the write token). */
export function checkPutItem(table: Table, item: Item, field: string): void {
  checkItem(table, item, field, bookkeepingBytes(table, 'token'));
}

/**
 * Rejects an empty update, changes to keys, the version or racesafe's bookkeeping attributes, names and values
 * DynamoDB cannot store as given, and a key and changes that alone (with the write token and the version) exceed
 * DynamoDB's 400 KB item limit.
 */
export function checkChanges(
  table: Table,
  key: Item,
  changes: Changes,
  field: string,
  options: { allowVersion?: boolean; version?: Version; bookkeeping?: 'token' | 'change' | 'none' } = {},
): void {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw invalidInput(field, 'must be an object of attribute changes');
  }
  const names = Object.keys(changes);
  if (names.length === 0) throw invalidInput(field, 'an update needs at least one change');
  const owned = ownedAttributes(table, options.allowVersion === true);
  const rules = table.valueRules;
  // The key is stored with the item, and racesafe's register and version ride along on every update.
  let size = bookkeepingBytes(table, options.bookkeeping ?? 'none');
  if (options.version !== undefined) {
    size += utf8Length(table.versionAttribute) + storedValueSize(options.version, 'version', undefined, rules);
  }
  for (const name of keyAttributes(table)) size += utf8Length(name) + storedValueSize(key[name], field, name, rules);
  for (const attribute of names) {
    const rule = attributeNameRule(attribute) ?? owned.get(attribute) ?? reservedNameRule(table, attribute);
    if (rule !== undefined) throw invalidInput(`${field}.${attribute}`, rule);
    const change = changes[attribute];
    if (change === undefined) throw invalidInput(`${field}.${attribute}`, 'is undefined; use remove() to delete it');
    const operand = changeOperand(change);
    if (isUpdateOperation(change) && operand.value === undefined) {
      if (operand.removes) continue;
      throw invalidInput(`${field}.${attribute}`, 'the operation needs a value; undefined cannot be stored');
    }
    const valueSize = storedValueSize(operand.value, field, attribute, rules);
    if (operand.always) size += utf8Length(attribute) + valueSize;
  }
  // The updated item holds at least what the changes always write, so the service would refuse it for certain.
  checkSize(size, field, 'item after the update');
}

/** The attributes an update may not change, with the rule for each: the same for every call on a table. */
function ownedAttributes(table: Table, allowVersion: boolean): ReadonlyMap<string, string> {
  let byTable = ownedByTable.get(table);
  if (byTable === undefined) {
    const keys = keyAttributes(table).map((name) => [name, 'key attributes cannot be changed by an update'] as const);
    const allowingVersion = new Map<string, string>(keys);
    const forbiddingVersion = new Map(allowingVersion).set(
      table.versionAttribute,
      'the version is set by the version argument',
    );
    byTable = { allowingVersion, forbiddingVersion };
    ownedByTable.set(table, byTable);
  }
  return allowVersion ? byTable.allowingVersion : byTable.forbiddingVersion;
}

const ownedByTable = new WeakMap<
  Table,
  { allowingVersion: ReadonlyMap<string, string>; forbiddingVersion: ReadonlyMap<string, string> }
>();
