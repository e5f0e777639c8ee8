/** @module The order DynamoDB compares strings in (UTF-8 bytes) and the order of versions that follows from it. */

/**
 * Compares two strings the way DynamoDB does: "DynamoDB collates and compares strings using the bytes of the
 * underlying UTF-8 string encoding" (Data types, String). JavaScript's `<` compares UTF-16 code units, which disagrees
 * whenever a character above U+FFFF (a surrogate pair, 0xD800-0xDFFF) meets one in U+E000-U+FFFF: `'\u{1F600}' <
 * '\uFFFD'` in JavaScript, the other way round in DynamoDB. UTF-8 byte order is code point order, so at the first
 * differing code unit it is enough to lift surrogates above the rest of the BMP. Well-formed strings only (racesafe
 * refuses lone surrogates before they reach DynamoDB).
 *
 * @example
 * ```ts
 * import { compareUtf8 } from 'racesafe';
 *
 * compareUtf8('\uFFFD', '\u{1F600}'); // -1: U+FFFD sorts first in DynamoDB
 * ```
 */
export function compareUtf8(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Both below the surrogates (the common case) or both surrogates: code unit order is code point order.
    if (x < 0xd800 && y < 0xd800) return x < y ? -1 : 1;
    return codePointRank(x) < codePointRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** A UTF-16 code unit's place in code point order: surrogates (pairs, above U+FFFF) after U+E000-U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Versions: positive safe integers, or strings ordered by their UTF-8 bytes as DynamoDB orders them. */
export type Version = number | string;

/**
 * Orders two versions of one type as DynamoDB's `<` in a condition does (numbers by value, strings by UTF-8 bytes);
 * undefined when their types differ (DynamoDB cannot compare them either).
 */
export function compareVersions(a: unknown, b: Version): number | undefined {
  if (typeof b === 'string') return typeof a === 'string' ? compareUtf8(a, b) : undefined;
  if (typeof a !== 'number') return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}
