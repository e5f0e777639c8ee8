/** @module Validation of a `changes` object against the table's keys and racesafe's own attributes. */
import { invalidInput } from '../errors.js';
import { type Changes, changeOperand } from '../expression/update.js';
import {
  attributeSize,
  checkFiniteNumbers,
  type Item,
  isTokenAttribute,
  itemSize,
  keyAttributes,
  maxItemBytes,
  type Table,
} from '../table.js';

/**
 * Rejects an empty update, changes to keys, the version or racesafe's bookkeeping attributes, NaN or Infinity anywhere
 * in a value, and a key and changes that alone exceed DynamoDB's 400 KB item limit.
 */
export function checkChanges(
  table: Table,
  key: Item,
  changes: Changes,
  field: string,
  options: { allowVersion?: boolean } = {},
): void {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw invalidInput(field, 'must be an object of attribute changes');
  }
  if (Object.keys(changes).length === 0) throw invalidInput(field, 'an update needs at least one change');
  const owned = ownedAttributes(table, options.allowVersion === true);
  // The key is stored with the item, so it counts too.
  let size = itemSize(key);
  for (const [attribute, change] of Object.entries(changes)) {
    const rule = isTokenAttribute(table, attribute) ? 'is managed by racesafe' : owned.get(attribute);
    if (rule) throw invalidInput(`${field}.${attribute}`, rule);
    const operand = changeOperand(change);
    checkFiniteNumbers(operand.value, `${field}.${attribute}`);
    if (operand.always) size += attributeSize(attribute, operand.value);
  }
  // The updated item holds at least what the changes always write, so the service would refuse it for certain.
  if (size > maxItemBytes) {
    throw invalidInput(
      field,
      `the key and changes alone are ${size} bytes; DynamoDB items must be at most 400 KB (${maxItemBytes} bytes)`,
    );
  }
}

/** The attributes an update may not change, with the rule for each: the same for every call on a table. */
function ownedAttributes(table: Table, allowVersion: boolean): ReadonlyMap<string, string> {
  let byTable = ownedByTable.get(table);
  if (byTable === undefined) {
    const keys = keyAttributes(table).map((name) => [name, 'key attributes cannot be changed by an update'] as const);
    const allowingVersion = new Map<string, string>([...keys, [table.tombstoneAttribute, 'is managed by racesafe']]);
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
