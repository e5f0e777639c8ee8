/** @module fast-check generators of hostile input for racesafe's public functions: values, items, changes, guards, options. */
import fc from 'fast-check';
import { append, increment, remove, setIfNotExists } from '../../src/expression/update.js';

/** Attribute names: plain, odd (dots, spaces, reserved words), racesafe's own, empty, long, lone surrogates. */
export const attributeName: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('a', 'b', 'name', 'status', 'a.b', 'with space', 'SET', '#x', ':v', 'ü', '😀'),
  },
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('_rsToken', '_rsToken0', '_rsToken15', '_rsToken999', '_rsDeleted', '__proto__'),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'a\uD800', '\uDC00b', 'n'.repeat(50_000), 'n'.repeat(50_001), 'n'.repeat(70_000)),
  },
);

const hostileString = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '\uFFFD', '\u{1F600}', 'a\uD800', '\uDC00', 'é') },
);

const hostileNumber = fc.oneof(
  { weight: 10, arbitrary: fc.integer() },
  { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }) },
  { weight: 1, arbitrary: fc.double() }, // NaN, ±Infinity, -0, tiny and huge included
  {
    weight: 2,
    arbitrary: fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e-130, 1e-131, 5e-324, 1e125, 0.1),
  },
  { weight: 2, arbitrary: fc.bigInt({ min: -(10n ** 45n), max: 10n ** 45n }) },
  { weight: 1, arbitrary: fc.constantFrom(10n ** 38n - 1n, 10n ** 38n + 1n, 10n ** 125n, 10n ** 126n) },
);

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((array) => Buffer.from(array)),
);

const scalar = fc.oneof(
  { weight: 12, arbitrary: hostileString },
  { weight: 10, arbitrary: hostileNumber },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: bytes },
  { weight: 1, arbitrary: fc.constantFrom(undefined, new Date(0), () => 1, Symbol('s')) },
);

const sets = fc.oneof(
  fc.uniqueArray(hostileString, { maxLength: 4 }).map((members) => new Set(members)),
  fc.uniqueArray(hostileNumber, { maxLength: 4 }).map((members) => new Set(members)),
  fc.array(bytes, { maxLength: 3 }).map((members) => new Set(members)),
  fc.array(scalar, { maxLength: 3 }).map((members) => new Set(members)),
);

/** A document value: scalars, sets, lists, maps (objects and JavaScript Maps), sometimes deeper than 32 levels. */
export const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 8, arbitrary: scalar },
    { weight: 1, arbitrary: sets },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(attributeName, tie('value'), { maxKeys: 4 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(attributeName, tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 30, max: 34 }).map(nested) },
  ),
})).value;

function nested(levels: number): unknown {
  let inner: unknown = 'bottom';
  for (let level = 0; level < levels; level++) inner = level % 2 === 0 ? { a: inner } : [inner];
  return inner;
}

/** An item's own attributes (keys and version are added by the case). */
export const attributes: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(attributeName, value, { maxKeys: 5 }) },
  // Near DynamoDB's 400 KB: a big string that lands a few bytes either side of the limit.
  { weight: 1, arbitrary: fc.integer({ min: 409_500, max: 409_620 }).map((length) => ({ big: 'x'.repeat(length) })) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 409_500, max: 409_620 })
      .map((length) => ({ big: new Map([['x', 'y'.repeat(length)]]) })),
  },
);

/** Versions: mostly valid, sometimes not. */
export const version: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, Number.NaN, '', 'a\uD800', null, undefined, 2 ** 53, 1n) },
);

/** Keys: valid strings mostly, sometimes wrong type, empty, too long, binary. */
export const partitionKeyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'p'.repeat(2048),
      'p'.repeat(2049),
      'é'.repeat(1025),
      1,
      new Uint8Array(0),
      null,
      'a\uD800',
    ),
  },
);

/** One change: a value, or an operation with a hostile operand. */
export const change: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: value },
  { weight: 2, arbitrary: hostileNumber.map((by) => increment(by as number)) },
  { weight: 1, arbitrary: fc.constant(remove()) },
  { weight: 1, arbitrary: value.map((operand) => setIfNotExists(operand)) },
  { weight: 1, arbitrary: fc.array(value, { maxLength: 3 }).map((values) => append(values)) },
);

export const changes: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(attributeName, change, { minKeys: 1, maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 200, max: 320 })
      .map((count) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`attr${i}`, i]))),
  },
);

const operand = fc.oneof(value, fc.constantFrom({ toString: 5 }, null, undefined, Number.NaN));

/** Guards: rule objects with hostile operands and unknown rules. */
export const guard: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.dictionary(
      attributeName,
      fc.dictionary(fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'exists', 'beginsWith', 'nope'), operand, {
        maxKeys: 2,
      }),
      { maxKeys: 2 },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, 5, 'x', [], { a: null }) },
);

/** Any value at all, for option values. */
export const anything: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    0,
    -1,
    1,
    2.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'x',
    'yes',
    true,
    false,
    [],
    {},
    () => 1,
    5,
    70_000,
  ),
  fc.record(
    { maxAttempts: fc.constantFrom(0, 1, Number.NaN, -1, 3), baseMs: fc.constantFrom(-1, 0, 10, Number.NaN) },
    { requiredKeys: [] },
  ),
);
