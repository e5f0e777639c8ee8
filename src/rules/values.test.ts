import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { numberRule, numberSize } from './numbers.js';
import { storedValueSize } from './values.js';

const strict = { dropsUndefined: false };
const size = (value: unknown) => storedValueSize(value, 'item', 'a', strict);
function refusal(value: unknown, rules = strict): { field: string; rule: string } | undefined {
  try {
    storedValueSize(value, 'item', 'a', rules);
    return undefined;
  } catch (error) {
    if (error instanceof RacesafeError && error.is('validation.invalidInput')) return error.details;
    throw error;
  }
}

const nested = (levels: number): unknown => (levels === 0 ? 'x' : { a: nested(levels - 1) });

describe('values as DynamoDB stores them', () => {
  it('counts sizes by the published accounting (measured at 400 KB on DynamoDB Local)', () => {
    expect(size('xyz')).toBe(3);
    expect(size(['x', 'y'])).toBe(3 + 2 * 2);
    expect(size({ k: 'x' })).toBe(3 + 1 + 1 + 1);
    expect(size(new Map([['k', 'x']]))).toBe(3 + 1 + 1 + 1);
    expect(size(new Set(['ab', 'cd']))).toBe(4);
    expect(size(new Uint8Array(5))).toBe(5);
    expect(size(null)).toBe(1);
  });

  it('refuses what the DocumentClient or DynamoDB would refuse or change', () => {
    expect(refusal(new Map([['n', Number.NaN]]))?.field).toBe('item.a.n');
    expect(refusal(2 ** 53)?.rule).toMatch(/lost precision/);
    expect(refusal(5e-324)?.rule).toMatch(/1E-130/);
    expect(refusal(10n ** 38n + 1n)?.rule).toMatch(/39 significant digits/);
    expect(refusal(10n ** 126n)?.rule).toMatch(/1E\+126/);
    expect(refusal(new Date())?.rule).toMatch(/Date/);
    expect(refusal([1, undefined])?.field).toBe('item.a[1]');
    expect(refusal({ b: undefined })?.field).toBe('item.a.b');
    expect(refusal({ b: undefined }, { dropsUndefined: true })).toBeUndefined();
    expect(refusal({ '': 1 })?.rule).toMatch(/empty/);
    expect(refusal({ 'a\uD800': 1 })?.rule).toMatch(/lone surrogate/);
    expect(refusal('a\uDC00')?.rule).toMatch(/lone surrogate/);
    expect(refusal(JSON.parse('{"__proto__": 1}'))?.rule).toMatch(/__proto__/);
    expect(refusal(new Set())?.rule).toMatch(/empty set/);
    expect(refusal(new Set(['a', 1]))?.rule).toMatch(/one type/);
    expect(refusal(new Set([{}]))?.rule).toMatch(/strings, numbers or binary/);
    expect(refusal(new Set([1, 1n]))?.rule).toMatch(/same value twice/);
    expect(refusal(new Set([Buffer.from('ab'), new Uint8Array([97, 98])]))?.rule).toMatch(/same value twice/);
    expect(refusal(() => 1)?.rule).toMatch(/function/);
    expect(refusal({ x: { constructor: [] } })?.field).toBe('item.a.x.constructor');
  });

  it('allows 31 documents inside an attribute and refuses the 32nd, as DynamoDB Local does', () => {
    expect(refusal(nested(31))).toBeUndefined();
    expect(refusal(nested(32))?.rule).toMatch(/32 levels/);
  });

  it('states the number rules of DynamoDB: 38 digits, 1E-130 to below 1E+126', () => {
    expect(numberRule(10n ** 38n * 7n)).toBeUndefined(); // one significant digit
    expect(numberRule(NumberValue.from('9.9999999999999999999999999999999999999E+125'))).toBeUndefined();
    expect(numberRule(NumberValue.from('1E-130'))).toBeUndefined();
    expect(numberRule(NumberValue.from('1E-131'))).toMatch(/1E-130/);
    expect(numberRule(NumberValue.from('12x'))).toMatch(/decimal/);
    expect(numberSize(NumberValue.from('1200'))).toBe(2);
    expect(numberSize(120)).toBe(3);
  });
});
