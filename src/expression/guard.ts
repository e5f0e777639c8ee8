/** @module The guard vocabulary: plain objects that say what must hold for a write, e.g. `{ quantity: { gte: 2 } }`. */
import { invalidInput } from '../errors.js';
import { attributeNameRule } from '../rules/names.js';
import { isNumberLike } from '../rules/numbers.js';
import { compareUtf8 } from '../rules/order.js';
import { storedValueSize } from '../rules/values.js';
import {
  and,
  attributeExists,
  attributeNotExists,
  beginsWith,
  type Comparator,
  type Condition,
  compare,
} from './condition.js';

/** What one attribute must satisfy. Several rules on one attribute must all hold. */
export interface GuardRule {
  readonly eq?: unknown;
  readonly ne?: unknown;
  readonly lt?: number | string;
  readonly lte?: number | string;
  readonly gt?: number | string;
  readonly gte?: number | string;
  /** `true`: the attribute must exist; `false`: it must not. */
  readonly exists?: boolean;
  readonly beginsWith?: string;
}

/**
 * Rules per attribute, all of which must hold.
 *
 * @example
 * ```ts
 * import type { Guard } from 'racesafe';
 *
 * const inStock: Guard = { quantity: { gte: 2 }, status: { eq: 'active' } };
 * ```
 */
export type Guard = Readonly<Record<string, GuardRule>>;

const comparators = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const satisfies Record<
  string,
  Comparator
>;
const ruleNames = [...Object.keys(comparators), 'exists', 'beginsWith'];

/** One rule of a guard, with a readable label for "which guard failed". */
export interface GuardPart {
  readonly attribute: string;
  readonly rule: keyof GuardRule;
  readonly operand: unknown;
  readonly label: string;
  readonly condition: Condition;
}

/** Splits a guard into its parts, validating it; `field` names the guard in errors (e.g. `require`). */
export function guardParts(guard: Guard, field: string): GuardPart[] {
  if (typeof guard !== 'object' || guard === null || Array.isArray(guard)) {
    throw invalidInput(field, 'must be an object of attribute rules, e.g. { quantity: { gte: 1 } }');
  }
  const parts: GuardPart[] = [];
  for (const [attribute, rules] of Object.entries(guard)) {
    const nameRule = attributeNameRule(attribute);
    if (nameRule !== undefined) throw invalidInput(`${field}.${attribute}`, nameRule);
    if (typeof rules !== 'object' || rules === null || Array.isArray(rules))
      throw invalidInput(`${field}.${attribute}`, 'must be a rule object');
    for (const [rule, operand] of Object.entries(rules)) {
      if (!ruleNames.includes(rule)) {
        throw invalidInput(`${field}.${attribute}.${rule}`, `unknown rule; allowed: ${ruleNames.join(', ')}`);
      }
      if (operand === undefined) throw invalidInput(`${field}.${attribute}.${rule}`, 'needs a value');
      checkOperand(rule as keyof GuardRule, operand, `${field}.${attribute}.${rule}`);
      parts.push(toPart(attribute, rule as keyof GuardRule, operand));
    }
  }
  return parts;
}

/**
 * An operand DynamoDB can compare with: `<`, `<=`, `>`, `>=` order numbers, strings and binary ("a < b ... true if a
 * is less than b", Condition expressions), `begins_with` takes a string or binary, `exists` a boolean, `=`/`<>` any
 * value DynamoDB can store.
 */
function checkOperand(rule: keyof GuardRule, operand: unknown, field: string): void {
  if (rule === 'exists') {
    if (typeof operand !== 'boolean') throw invalidInput(field, 'must be true (must exist) or false (must not exist)');
    return;
  }
  if (rule === 'beginsWith') {
    if (typeof operand !== 'string' || operand === '') throw invalidInput(field, 'must be a non-empty string');
  } else if (rule !== 'eq' && rule !== 'ne') {
    if (typeof operand !== 'string' && !isNumberLike(operand) && !(operand instanceof Uint8Array)) {
      throw invalidInput(field, 'an ordering rule compares with a number, a string or binary');
    }
  }
  storedValueSize(operand, field, undefined, strictValues);
}

const strictValues = { dropsUndefined: false } as const;

function toPart(attribute: string, rule: keyof GuardRule, operand: unknown): GuardPart {
  return new Part(attribute, rule, operand, ruleCondition(attribute, rule, operand));
}

function ruleCondition(attribute: string, rule: keyof GuardRule, operand: unknown): Condition {
  if (rule === 'exists') return operand ? attributeExists(attribute) : attributeNotExists(attribute);
  if (rule === 'beginsWith') return beginsWith(attribute, String(operand));
  return compare(attribute, comparators[rule], operand);
}

class Part implements GuardPart {
  constructor(
    readonly attribute: string,
    readonly rule: keyof GuardRule,
    readonly operand: unknown,
    readonly condition: Condition,
  ) {}

  /** Written out when asked (a guard failed), not on every request. */
  get label(): string {
    if (this.rule === 'exists') return `${this.attribute} ${this.operand ? 'exists' : 'does not exist'}`;
    if (this.rule === 'beginsWith') return `${this.attribute} begins with ${JSON.stringify(this.operand)}`;
    return `${this.attribute} ${comparators[this.rule]} ${JSON.stringify(this.operand)}`;
  }
}

/** The guard as one condition (all parts joined with AND), or undefined for an empty guard. */
export function guardCondition(parts: readonly GuardPart[]): Condition | undefined {
  return parts.length === 0 ? undefined : and(...parts.map((part) => part.condition));
}

/**
 * Which parts do not hold on a stored item, to name the failed guard in a `rejected` outcome. DynamoDB already decided
 * the write; this only explains its answer from the item it returned, so it covers just our own small vocabulary.
 */
export function failedGuardParts(parts: readonly GuardPart[], item: Record<string, unknown>): GuardPart[] {
  return parts.filter((part) => !holds(part, item[part.attribute]));
}

function holds(part: GuardPart, stored: unknown): boolean {
  if (part.rule === 'exists') return (stored !== undefined) === Boolean(part.operand);
  if (stored === undefined) return false;
  if (part.rule === 'beginsWith') return typeof stored === 'string' && stored.startsWith(String(part.operand));
  if (part.rule === 'eq') return sameValue(stored, part.operand);
  if (part.rule === 'ne') return !sameValue(stored, part.operand);
  if (typeof stored !== typeof part.operand) return false;
  // Strings in DynamoDB's order (UTF-8 bytes), not JavaScript's (UTF-16 code units).
  const order =
    typeof stored === 'string'
      ? compareUtf8(stored, part.operand as string)
      : (stored as number) < (part.operand as number)
        ? -1
        : (stored as number) > (part.operand as number)
          ? 1
          : 0;
  switch (part.rule) {
    case 'lt':
      return order < 0;
    case 'lte':
      return order <= 0;
    case 'gt':
      return order > 0;
    default:
      return order >= 0;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
