import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  checkFiniteNumbers,
  checkVersion,
  compareVersions,
  defineTable,
  itemSize,
  keyOf,
  orderedVersion,
  withoutBookkeeping,
} from './table.js';

const client = { send: async () => ({}) } as unknown as DynamoDBDocumentClient;

describe('defineTable', () => {
  it('applies defaults and keeps the caller client', () => {
    const table = defineTable({ client, name: 't', partitionKey: 'pk' });
    expect(table).toMatchObject({
      client,
      name: 't',
      partitionKey: 'pk',
      sortKey: undefined,
      versionAttribute: 'version',
      writeTokenAttribute: '_rsToken',
      tombstoneAttribute: '_rsDeleted',
      observers: [],
    });
  });

  it('rejects unknown options, listing the allowed ones, and bad values', () => {
    expect(() => defineTable({ client, name: 't', partitionKey: 'pk', versionAttr: 'v' } as never)).toThrow(
      /defineTable.versionAttr: unknown option; allowed: client, name, partitionKey/,
    );
    expect(() => defineTable({ client, name: '', partitionKey: 'pk' })).toThrow(/option defineTable.name/);
    expect(() => defineTable({ client: {} as never, name: 't', partitionKey: 'pk' })).toThrow(
      /option defineTable.client/,
    );
    expect(() => defineTable({ client, name: 't', partitionKey: 'pk', versionAttribute: 'pk' })).toThrow(
      /already partitionKey/,
    );
  });
});

describe('item rules', () => {
  const table = defineTable({ client, name: 't', partitionKey: 'pk', sortKey: 'sk' });

  it('extracts and validates the key', () => {
    expect(keyOf(table, { pk: 'a', sk: 1, other: 2 }, 'item')).toEqual({ pk: 'a', sk: 1 });
    expect(() => keyOf(table, { pk: 'a' }, 'item')).toThrow(/item.sk: key attribute is required/);
    expect(() => keyOf(table, { pk: 'a', sk: Number.NaN }, 'item')).toThrow(/item.sk/);
  });

  it('accepts positive safe integers and non-empty strings as versions', () => {
    for (const good of [1, 2 ** 53 - 1, 'a', '0001']) expect(() => checkVersion(good, 'v')).not.toThrow();
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53, '', undefined, null, {}]) {
      expect(() => checkVersion(bad, 'v'), String(bad)).toThrow(
        expect.objectContaining({ code: 'validation.invalidInput' }),
      );
    }
  });

  it('orders versions of one type only', () => {
    expect(compareVersions(1, 2)).toBe(-1);
    expect(compareVersions('0010', '0009')).toBe(1);
    expect(compareVersions(5, 5)).toBe(0);
    expect(compareVersions('5', 5)).toBeUndefined();
  });

  it('pads sequence numbers so string order is numeric order', () => {
    const a = orderedVersion('9');
    const b = orderedVersion(10n);
    expect(a < b).toBe(true);
    expect(a).toHaveLength(64);
    expect(() => orderedVersion('12a')).toThrow(/decimal/);
    expect(() => orderedVersion('1'.repeat(65))).toThrow(/at most 64/);
  });

  it('measures item size by names and values', () => {
    expect(itemSize({ ab: 'xyz' })).toBe(5);
    expect(itemSize({ n: 1, b: true })).toBe(1 + 2 + 1 + 1);
    // Numbers: one byte per pair of digits (aligned on the decimal point) from the first significant one to the last,
    // plus one; leading and trailing zeros are not stored.
    expect(itemSize({ n: 123_456 })).toBe(1 + 4);
    expect(itemSize({ n: 120 })).toBe(1 + 3);
    expect(itemSize({ n: 0.1 + 0.2 })).toBe(1 + 10);
    expect(itemSize({ n: 10n ** 21n })).toBe(1 + 2);
    expect(itemSize({ n: -12n })).toBe(1 + 2);
    // Safe integers take an arithmetic path: it must agree with the general one.
    for (const n of [7, 10, 99, 100, 120, 1200, 12_345, -1_000_001, 2 ** 53 - 1, 9_007_199_254_740_000]) {
      expect(itemSize({ n }), String(n)).toBe(itemSize({ n: BigInt(n) }));
    }
    expect(itemSize({ n: -0.0012 })).toBe(1 + 2);
    expect(itemSize({ n: 1.5e-7 })).toBe(1 + 2);
    expect(itemSize({ n: 1200 })).toBe(1 + 2);
    expect(itemSize({ n: 0 })).toBe(1 + 1);
    expect(itemSize({ n: 2n ** 100n })).toBe(1 + 17);
    expect(itemSize({ l: Array.from({ length: 20_000 }, (_, i) => i % 100) })).toBeLessThan(100_000);
    expect(itemSize({ big: 'é'.repeat(10) })).toBe(3 + 20);
  });

  it('finds NaN and Infinity at any depth and names the path to them', () => {
    expect(() => checkFiniteNumbers({ a: 1, b: [1, 'x', { c: 2 }], d: new Set([1]) }, 'item')).not.toThrow();
    expect(() => checkFiniteNumbers({ a: { s: new Set([1, Number.NaN]) } }, 'item')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'item.a.s' }) }),
    );
    expect(() => checkFiniteNumbers({ a: { b: [1, { c: Number.NaN }] } }, 'item')).toThrow(
      expect.objectContaining({
        code: 'validation.invalidInput',
        details: expect.objectContaining({ field: 'item.a.b[1].c' }),
      }),
    );
    expect(() => checkFiniteNumbers([Number.POSITIVE_INFINITY], 'list')).toThrow(/list\[0\]/);
    expect(() => checkFiniteNumbers(Number.NaN, 'n')).toThrow(/finite/);
  });

  it('strips bookkeeping attributes', () => {
    expect(
      withoutBookkeeping(table, { pk: 'a', _rsToken0: 't', _rsToken7: '-', _rsDeleted: true, _rsTokenizer: 1, x: 1 }),
    ).toEqual({
      pk: 'a',
      _rsTokenizer: 1,
      x: 1,
    });
  });
});
