/**
 * @module Attribute values as DynamoDB stores them: which JavaScript values the DocumentClient can marshal without
 * changing them, the nesting limit, set rules, and each value's size by DynamoDB's published accounting.
 */
import { invalidInput } from '../errors.js';
import { maxNestingLevels } from './limits.js';
import { attributeNameRule } from './names.js';
import { canonicalNumber, isNumberLike, numberRule, numberSize, type StorableNumber } from './numbers.js';
import { isWellFormed, utf8Length } from './strings.js';

/** How the caller's DocumentClient marshals `undefined`: dropped from maps (`removeUndefinedValues`) or refused. */
export interface ValueRules {
  /** True when the client's `marshallOptions.removeUndefinedValues` drops undefined map values. */
  readonly dropsUndefined: boolean;
}

/**
 * Validates one attribute's value and returns its stored size without the name, by "DynamoDB item sizes and formats":
 * strings and binary by their (UTF-8 or raw) bytes, numbers about one byte per two digits plus one, null and booleans
 * one byte, lists and maps three bytes plus one per element plus their elements, sets their members. Throws
 * `validation.invalidInput` naming the path under `field` (`item.a[2].b`) and the rule.
 */
export function storedValueSize(value: unknown, field: string, name: string | undefined, rules: ValueRules): number {
  // Scalars first, without the walker: most attributes are, and this runs for every attribute of every write. The
  // path is written out only for an error.
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw invalidInput(joinPath(field, name), loneSurrogate);
    return utf8Length(value);
  }
  if (typeof value === 'number') {
    const rule = numberRule(value);
    if (rule !== undefined) throw invalidInput(joinPath(field, name), rule);
    return numberSize(value);
  }
  if (typeof value === 'boolean' || value === null) return 1;
  return new Walker(joinPath(field, name), rules).size(value, 2);
}

function joinPath(field: string, name: string | undefined): string {
  return name === undefined ? field : `${field}.${name}`;
}

/**
 * Whether `value` is undefined and may be left out (the client drops undefined map values), so that it is not
 * stored: a top-level attribute or map value. Refused otherwise: the DocumentClient would throw.
 */
export function skipsUndefined(value: unknown, field: string, name: string | undefined, rules: ValueRules): boolean {
  if (value !== undefined) return false;
  if (rules.dropsUndefined) return true;
  throw invalidInput(joinPath(field, name), undefinedValue);
}

const loneSurrogate = 'must be valid Unicode (a lone surrogate has no UTF-8 form; the SDK would store U+FFFD instead)';
const undefinedValue =
  'is undefined, which DynamoDB cannot store; leave the attribute out (or give the DocumentClient removeUndefinedValues)';

/** Walks a document value once, keeping the path for errors in one mutable trail (no allocation per level). */
class Walker {
  readonly #trail: (string | number)[] = [];

  constructor(
    readonly field: string,
    readonly rules: ValueRules,
  ) {}

  fail(rule: string): never {
    let path = this.field;
    for (const segment of this.#trail) path += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
    throw invalidInput(path, rule);
  }

  /** `level` is the nesting level this value would take if it is a document (the item is level 1). */
  size(value: unknown, level: number): number {
    if (typeof value === 'string') {
      if (!isWellFormed(value)) this.fail(loneSurrogate);
      return utf8Length(value);
    }
    if (isNumberLike(value)) {
      const rule = numberRule(value);
      if (rule !== undefined) this.fail(rule);
      return numberSize(value);
    }
    if (typeof value === 'boolean' || value === null) return 1;
    if (value instanceof Uint8Array) return value.byteLength;
    if (value === undefined) return this.fail(undefinedValue);
    if (typeof value !== 'object') return this.fail(`a ${typeof value} cannot be stored in DynamoDB`);
    if (level > maxNestingLevels) {
      this.fail(`nests deeper than DynamoDB's ${maxNestingLevels} levels (the item is the first)`);
    }
    if (Array.isArray(value)) return this.list(value, level);
    if (value instanceof Set) return this.set(value);
    if (value instanceof Map) return this.map(value, level);
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as object).constructor?.name ?? 'class instance';
      const hint = value instanceof Date ? ' (store an ISO string or an epoch number)' : '';
      this.fail(`a ${kind} is not a plain object and would not be stored as given${hint}`);
    }
    return this.object(value as Record<string, unknown>, level);
  }

  list(list: readonly unknown[], level: number): number {
    let size = 3;
    for (let index = 0; index < list.length; index++) {
      this.#trail.push(index);
      // A hole or undefined element: dropped by removeUndefinedValues, it would shift every later element.
      if (list[index] === undefined) this.fail('a list element must not be undefined (it would not be stored)');
      size += 1 + this.size(list[index], level + 1);
      this.#trail.pop();
    }
    return size;
  }

  object(object: Record<string, unknown>, level: number): number {
    // The DocumentClient's marshaller tells types apart by `value.constructor.name`: an own `constructor` attribute
    // makes it read the map as a Set, a Map, a class instance (refused) or binary, so the map is not stored as given.
    if (Object.hasOwn(object, 'constructor')) {
      this.#trail.push('constructor');
      this.fail("a map attribute named 'constructor' is misread by the DocumentClient's marshaller; rename it");
    }
    let size = 3;
    for (const name of Object.keys(object)) {
      this.#trail.push(name);
      size += this.entry(name, object[name], level);
      this.#trail.pop();
    }
    return size;
  }

  map(map: ReadonlyMap<unknown, unknown>, level: number): number {
    let size = 3;
    for (const [name, value] of map) {
      if (typeof name !== 'string') this.fail('a Map stored as a DynamoDB map must have string keys');
      this.#trail.push(name);
      size += this.entry(name, value, level);
      this.#trail.pop();
    }
    return size;
  }

  entry(name: string, value: unknown, level: number): number {
    const rule = attributeNameRule(name);
    if (rule !== undefined) this.fail(rule);
    if (value === undefined) {
      if (this.rules.dropsUndefined) return 0;
      this.fail(undefinedValue);
    }
    return utf8Length(name) + 1 + this.size(value, level + 1);
  }

  /** "An attribute value cannot be an empty set"; members are strings, numbers or binary, all of one kind, unique. */
  set(set: ReadonlySet<unknown>): number {
    if (set.size === 0)
      this.fail('an empty set cannot be stored (DynamoDB has no empty sets): leave it out or use a list');
    let kind: 'string' | 'number' | 'binary' | undefined;
    let size = 0;
    const seen = new Set<string>();
    for (const member of set) {
      const memberKind =
        typeof member === 'string'
          ? 'string'
          : isNumberLike(member)
            ? 'number'
            : member instanceof Uint8Array
              ? 'binary'
              : undefined;
      if (memberKind === undefined) this.fail('set members must be strings, numbers or binary (a list holds anything)');
      if (kind !== undefined && memberKind !== kind) {
        this.fail(`set members must all be of one type (a ${kind} set cannot hold a ${memberKind})`);
      }
      kind = memberKind;
      size += this.size(member, 0);
      // JavaScript sets tell strings apart exactly as DynamoDB does; numbers and bytes need one spelling per value.
      if (memberKind === 'string') continue;
      const identity =
        memberKind === 'number'
          ? canonicalNumber(member as StorableNumber)
          : Buffer.from(
              (member as Uint8Array).buffer,
              (member as Uint8Array).byteOffset,
              (member as Uint8Array).byteLength,
            ).toString('base64');
      if (seen.has(identity)) this.fail('a set must not hold the same value twice (DynamoDB refuses duplicates)');
      seen.add(identity);
    }
    return size;
  }
}
