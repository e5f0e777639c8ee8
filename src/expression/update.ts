/** @module Update expressions from a plain `changes` object, with operations for what a plain value cannot say. */
import { invalidInput } from '../errors.js';
import type { Placeholders } from './placeholders.js';

const operation = Symbol('racesafe.updateOperation');

/** A change other than "set this value". Build one with {@link increment}, {@link remove}, … */
export type UpdateOperation =
  | { readonly [operation]: 'increment'; readonly by: number }
  | { readonly [operation]: 'remove' }
  | { readonly [operation]: 'setIfNotExists'; readonly value: unknown }
  | { readonly [operation]: 'append'; readonly values: readonly unknown[] };

/** What to change: attribute name → new value, or an {@link UpdateOperation}. */
export type Changes = Readonly<Record<string, unknown>>;

/**
 * Adds `by` (negative to subtract) in one atomic step; a missing attribute counts as 0.
 *
 * @example
 * ```ts
 * import { increment } from 'racesafe';
 *
 * const changes = { quantity: increment(-2), sold: increment(2) };
 * ```
 */
export function increment(by: number): UpdateOperation {
  return { [operation]: 'increment', by };
}

/** Subtracts `by`; the same as `increment(-by)`. */
export function decrement(by: number): UpdateOperation {
  return increment(-by);
}

/** Removes the attribute. */
export function remove(): UpdateOperation {
  return { [operation]: 'remove' };
}

/** Sets the attribute only when it does not exist yet. */
export function setIfNotExists(value: unknown): UpdateOperation {
  return { [operation]: 'setIfNotExists', value };
}

/** Appends values to a list attribute (a missing list counts as empty). */
export function append(values: readonly unknown[]): UpdateOperation {
  return { [operation]: 'append', values };
}

function isOperation(value: unknown): value is UpdateOperation {
  return typeof value === 'object' && value !== null && operation in value;
}

/** Whether a change is an {@link UpdateOperation} (increment, remove, …) rather than a value to set. */
export function isUpdateOperation(value: unknown): value is UpdateOperation {
  return isOperation(value);
}

/**
 * What a change writes into its attribute: the value or the operation's operand (undefined for {@link remove}).
 * `always` is false for {@link setIfNotExists}, which writes nothing when the attribute exists.
 */
export function changeOperand(change: unknown): {
  readonly value: unknown;
  readonly always: boolean;
  readonly removes: boolean;
} {
  if (!isOperation(change)) return { value: change, always: true, removes: false };
  switch (change[operation]) {
    case 'increment':
      return { value: change.by, always: true, removes: false };
    case 'remove':
      return { value: undefined, always: true, removes: true };
    case 'setIfNotExists':
      return { value: change.value, always: false, removes: false };
    case 'append':
      return { value: change.values, always: true, removes: false };
  }
}

/** The SET and REMOVE clauses of an update, kept apart so that callers can add their own (version, token). */
export interface UpdateClauses {
  readonly set: string[];
  readonly remove: string[];
}

/** Renders `changes` into clauses, validating each change; `field` names the changes in errors. */
export function renderChanges(changes: Changes, placeholders: Placeholders, field = 'changes'): UpdateClauses {
  const set: string[] = [];
  const removed: string[] = [];
  for (const attribute of Object.keys(changes)) {
    const change = changes[attribute];
    if (change === undefined) throw invalidInput(`${field}.${attribute}`, 'is undefined; use remove() to delete it');
    if (typeof change === 'number' && !Number.isFinite(change)) {
      throw invalidInput(`${field}.${attribute}`, 'must be a finite number (NaN and Infinity cannot be stored)');
    }
    if (!isOperation(change)) {
      set.push(`${placeholders.name(attribute)} = ${placeholders.value(change)}`);
      continue;
    }
    switch (change[operation]) {
      case 'increment': {
        if (!Number.isFinite(change.by)) throw invalidInput(`${field}.${attribute}`, 'increment must be finite');
        const n = placeholders.name(attribute);
        set.push(`${n} = if_not_exists(${n}, ${placeholders.value(0)}) + ${placeholders.value(change.by)}`);
        break;
      }
      case 'remove':
        removed.push(placeholders.name(attribute));
        break;
      case 'setIfNotExists': {
        const n = placeholders.name(attribute);
        set.push(`${n} = if_not_exists(${n}, ${placeholders.value(change.value)})`);
        break;
      }
      case 'append': {
        const n = placeholders.name(attribute);
        set.push(
          `${n} = list_append(if_not_exists(${n}, ${placeholders.value([])}), ${placeholders.value(change.values)})`,
        );
        break;
      }
    }
  }
  return { set, remove: removed };
}

/** Joins clauses into an UpdateExpression. */
export function updateExpression(clauses: UpdateClauses): string {
  const parts: string[] = [];
  if (clauses.set.length > 0) parts.push(`SET ${clauses.set.join(', ')}`);
  if (clauses.remove.length > 0) parts.push(`REMOVE ${clauses.remove.join(', ')}`);
  return parts.join(' ');
}
