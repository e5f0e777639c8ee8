/**
 * @module Option checking from one table of rules per options interface: `Record<keyof XOptions, rule>` lists every
 * option (the compiler refuses a missing or extra name), and each rule checks its value's type and range.
 */
import { invalidOption } from '../errors.js';
import { attributeNameRule } from './names.js';

/** Why an option's value is not acceptable, or undefined when it is. Called only for values that are not undefined. */
export type OptionRule = (value: unknown) => string | undefined;

/** A rule for every option of `T`, no more and no fewer. */
export type OptionRules<T> = { readonly [K in keyof Required<T>]: OptionRule };

/**
 * Refuses an options argument that is not an object, an unknown option name (listing the known ones) and a value that
 * breaks its option's rule, naming the option as `<where>.<name>`.
 *
 * @example
 * ```ts
 * import { checkOptionValues, type OptionRules, optionRules } from './options.js';
 *
 * interface RetryOptions { readonly attempts?: number }
 * const retryRules: OptionRules<RetryOptions> = { attempts: optionRules.positiveInteger };
 * checkOptionValues({ attempts: 3 }, retryRules, 'retry');
 * ```
 */
export function checkOptionValues<T>(options: T | undefined, rules: OptionRules<T>, where: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(where, 'options must be an object');
  }
  for (const name of Object.keys(options)) {
    const rule = (rules as Record<string, OptionRule>)[name];
    if (rule === undefined || !Object.hasOwn(rules, name)) {
      throw invalidOption(`${where}.${name}`, `unknown option; allowed: ${Object.keys(rules).join(', ')}`);
    }
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const broken = rule(value);
    if (broken !== undefined) throw invalidOption(`${where}.${name}`, broken);
  }
}

/** The names of an options interface, from its rules (for messages and pass-through lists). */
export function optionNames<T>(rules: OptionRules<T>): readonly string[] {
  return Object.keys(rules);
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The rules options are made of. */
export const optionRules = {
  any: (() => undefined) as OptionRule,
  boolean: ((value) => (typeof value === 'boolean' ? undefined : 'must be true or false')) as OptionRule,
  function: ((value) => (typeof value === 'function' ? undefined : 'must be a function')) as OptionRule,
  string: ((value) => (typeof value === 'string' ? undefined : 'must be a string')) as OptionRule,
  nonEmptyString: ((value) =>
    typeof value === 'string' && value !== '' ? undefined : 'must be a non-empty string') as OptionRule,
  /** An attribute name by DynamoDB's naming rules. */
  attributeName: ((value) =>
    typeof value !== 'string' ? 'must be an attribute name (a string)' : attributeNameRule(value)) as OptionRule,
  positiveInteger: ((value) =>
    Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'must be a positive integer') as OptionRule,
  nonNegativeInteger: ((value) =>
    Number.isSafeInteger(value) && (value as number) >= 0
      ? undefined
      : 'must be an integer of 0 or more') as OptionRule,
  positiveNumber: ((value) =>
    isFiniteNumber(value) && value > 0 ? undefined : 'must be a finite number above 0') as OptionRule,
  nonNegativeNumber: ((value) =>
    isFiniteNumber(value) && value >= 0 ? undefined : 'must be a finite number of 0 or more') as OptionRule,
  /** A TCP port to listen on: 1-65535. */
  port: ((value) =>
    Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 65535
      ? undefined
      : 'must be a TCP port, an integer from 1 to 65535') as OptionRule,
  /** One observer or a list of them. */
  observers: ((value) =>
    typeof value === 'function' || (Array.isArray(value) && value.every((observer) => typeof observer === 'function'))
      ? undefined
      : 'must be an observer function or an array of them') as OptionRule,
  /** A plain object of fields. */
  record: ((value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? undefined
      : 'must be an object of fields') as OptionRule,
  oneOf(...allowed: readonly unknown[]): OptionRule {
    return (value) => (allowed.includes(value) ? undefined : `must be one of ${allowed.map(String).join(', ')}`);
  },
  /** A number in [min, max]. */
  between(min: number, max: number): OptionRule {
    return (value) =>
      isFiniteNumber(value) && value >= min && value <= max ? undefined : `must be a number from ${min} to ${max}`;
  },
  /** An integer in [min, max]. */
  integerBetween(min: number, max: number): OptionRule {
    return (value) =>
      Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
        ? undefined
        : `must be an integer from ${min} to ${max}`;
  },
  /** Either of two rules. */
  either(first: OptionRule, second: OptionRule, rule: string): OptionRule {
    return (value) => (first(value) === undefined || second(value) === undefined ? undefined : rule);
  },
  /** A nested options object with its own rules; errors name the inner option. */
  object<T>(rules: OptionRules<T>): OptionRule {
    return (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an options object';
      for (const name of Object.keys(value)) {
        const rule = (rules as Record<string, OptionRule>)[name];
        if (rule === undefined || !Object.hasOwn(rules, name)) {
          return `unknown option ${name}; allowed: ${Object.keys(rules).join(', ')}`;
        }
        const inner = (value as Record<string, unknown>)[name];
        if (inner === undefined) continue;
        const broken = rule(inner);
        if (broken !== undefined) return `${name} ${broken}`;
      }
      return undefined;
    };
  },
} as const;

/** Backoff settings (`baseMs`, `capMs`) shared by retry options. */
export interface BackoffRuleOptions {
  readonly baseMs?: number;
  readonly capMs?: number;
}

/**
 * Refuses attribute-naming options that collide: each role (a key, the version, a TTL attribute, a marker) needs its
 * own attribute, or one write would overwrite another's (a TTL epoch stored as the version). `roles` maps the role's
 * option name to the attribute it names (undefined roles are skipped); the first collision is reported on `field`.
 */
export function checkDistinctRoles(roles: Readonly<Record<string, string | undefined>>, where: string): void {
  const seen = new Map<string, string>();
  for (const [role, attribute] of Object.entries(roles)) {
    if (attribute === undefined) continue;
    const other = seen.get(attribute);
    if (other !== undefined) {
      throw invalidOption(
        `${where}.${role}`,
        `names attribute '${attribute}', which is already ${other}; each role needs its own attribute`,
      );
    }
    seen.set(attribute, role);
  }
}
