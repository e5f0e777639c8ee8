/** @module Validation of a `changes` object against the table's keys and racesafe's own attributes. */
import { invalidInput } from '../errors.js';
import type { Changes } from '../expression/update.js';
import { isTokenAttribute, keyAttributes, type Table } from '../table.js';

/** Rejects an empty update and changes to keys, the version, or racesafe's bookkeeping attributes. */
export function checkChanges(
  table: Table,
  changes: Changes,
  field: string,
  options: { allowVersion?: boolean } = {},
): void {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw invalidInput(field, 'must be an object of attribute changes');
  }
  if (Object.keys(changes).length === 0) throw invalidInput(field, 'an update needs at least one change');
  const owned = new Map<string, string>([
    ...keyAttributes(table).map((name) => [name, 'key attributes cannot be changed by an update'] as const),
    [table.tombstoneAttribute, 'is managed by racesafe'],
  ]);
  if (!options.allowVersion) owned.set(table.versionAttribute, 'the version is set by the version argument');
  for (const attribute of Object.keys(changes)) {
    const rule = isTokenAttribute(table, attribute) ? 'is managed by racesafe' : owned.get(attribute);
    if (rule) throw invalidInput(`${field}.${attribute}`, rule);
  }
}
