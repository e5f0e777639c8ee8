/** @module DynamoDB's key rules: scalar types as the table declares them, 1 to 2048 (partition) or 1024 (sort) bytes. */
import type { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { canonicalNumber, isNumberLike, numberRule } from './numbers.js';
import { isWellFormed } from './strings.js';

/**
 * A key attribute's type as the table's AttributeDefinitions declare it: "each primary key attribute must be defined
 * as type string, number, or binary" (Data types).
 */
export type KeyType = 'S' | 'N' | 'B';

export const keyTypeNames: Readonly<Record<KeyType, string>> = { S: 'a string', N: 'a number', B: 'binary' };

/** The key type of a JavaScript value as the DocumentClient marshals it, or undefined when it cannot be a key. */
export function keyTypeOf(value: unknown): KeyType | undefined {
  if (typeof value === 'string') return 'S';
  if (isNumberLike(value)) return 'N';
  if (value instanceof Uint8Array) return 'B';
  return undefined;
}

/**
 * Why a value cannot be this key attribute's, or undefined when it can. `type` is the table's declared type, when
 * known (see `defineTable`'s `partitionKeyType`); `maxBytes` the key's limit ("The minimum length of a partition key
 * value is 1 byte. The maximum length is 2048 bytes", 1024 for a sort key: Constraints). Empty strings and binary are
 * allowed in other attributes but never in keys.
 */
export function keyValueRule(value: unknown, type: KeyType | undefined, maxBytes: number): string | undefined {
  const actual = keyTypeOf(value);
  if (actual === undefined) {
    return type === undefined
      ? 'key attribute is required: a non-empty string, a number or binary'
      : `key attribute is required: ${keyTypeNames[type]} (the table's key type)`;
  }
  if (type !== undefined && actual !== type) {
    return `must be ${keyTypeNames[type]}, the table's key type, not ${keyTypeNames[actual]}`;
  }
  if (actual === 'S') {
    const text = value as string;
    if (text === '') return 'a string key must not be empty';
    if (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes) {
      return `is ${Buffer.byteLength(text)} bytes; this key holds at most ${maxBytes} (UTF-8)`;
    }
    if (!isWellFormed(text)) return 'must be valid Unicode (a lone surrogate has no UTF-8 form)';
    return undefined;
  }
  if (actual === 'N') return numberRule(value as number | bigint | NumberValue);
  const bytes = (value as Uint8Array).byteLength;
  if (bytes === 0) return 'a binary key must not be empty';
  if (bytes > maxBytes) return `is ${bytes} bytes; this key holds at most ${maxBytes}`;
  return undefined;
}

/**
 * One string per key value as DynamoDB tells items apart: a `Buffer` and a `Uint8Array` of the same bytes are one key,
 * `1` and `1n` are one number. For "two actions on one item" in a transaction.
 */
export function keyValueIdentity(value: unknown): string {
  if (typeof value === 'string') return `S${value}`;
  if (isNumberLike(value)) return `N${canonicalNumber(value)}`;
  if (value instanceof Uint8Array) {
    return `B${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
  }
  return `?${String(value)}`;
}
