/** @module The guard vocabulary: plain objects that say what must hold for a write, e.g. `{ quantity: { gte: 2 } }`. */
import { invalidInput } from '../errors.js';
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
  const parts: GuardPart[] = [];
  for (const [attribute, rules] of Object.entries(guard)) {
    if (typeof rules !== 'object' || rules === null)
      throw invalidInput(`${field}.${attribute}`, 'must be a rule object');
    for (const [rule, operand] of Object.entries(rules)) {
      if (!ruleNames.includes(rule)) {
        throw invalidInput(`${field}.${attribute}.${rule}`, `unknown rule; allowed: ${ruleNames.join(', ')}`);
      }
      if (operand === undefined) throw invalidInput(`${field}.${attribute}.${rule}`, 'needs a value');
      if (typeof operand === 'number' && !Number.isFinite(operand)) {
        throw invalidInput(`${field}.${attribute}.${rule}`, 'must be a finite number');
      }
      parts.push(toPart(attribute, rule as keyof GuardRule, operand));
    }
  }
  return parts;
}

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
  const a = stored as number | string;
  const b = part.operand as number | string;
  switch (part.rule) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    default:
      return a >= b;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
