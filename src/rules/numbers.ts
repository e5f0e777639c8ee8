/** @module DynamoDB's number rules (38 digits, 1E-130 to 1E+126) and its size accounting for numbers. */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { maxNumberDigits, maxNumberExponent, minNumberExponent } from './limits.js';

/** A number racesafe can store: a JavaScript number, a bigint, or the SDK's `NumberValue` (a decimal string). */
export type StorableNumber = number | bigint | NumberValue;

/** Whether a value is one of the number forms the DocumentClient marshals to DynamoDB's N. */
export function isNumberLike(value: unknown): value is StorableNumber {
  return typeof value === 'number' || typeof value === 'bigint' || value instanceof NumberValue;
}

/**
 * Why DynamoDB (or the DocumentClient on the way) cannot store this number exactly, or undefined when it can.
 * A JavaScript number beyond ±(2^53-1) has already lost its low digits (2^53+1 reads as 2^53), and the DocumentClient
 * refuses it; tiny numbers fall below DynamoDB's 1E-130.
 */
export function numberRule(value: StorableNumber): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return 'must be a finite number (NaN and Infinity cannot be stored)';
    }
    if (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) {
      return 'a JavaScript number beyond ±(2^53-1) has lost precision; pass a bigint or a NumberValue';
    }
    if (value !== 0 && value < 1e-130 && value > -1e-130) {
      return 'magnitude below 1E-130, the smallest DynamoDB stores';
    }
    return undefined;
  }
  const decimal = parseDecimal(typeof value === 'bigint' ? value.toString() : value.value);
  if (decimal === undefined) return 'a NumberValue must hold a decimal number (digits, an optional point and exponent)';
  return decimalRule(decimal);
}

/** A decimal number as its significant digits and the power of ten of the first one (undefined digits for zero). */
interface Decimal {
  readonly negative: boolean;
  readonly digits: string;
  /** Power of ten of the first significant digit. */
  readonly exponent: number;
}

const decimalPattern = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/;

function parseDecimal(text: string): Decimal | undefined {
  const match = decimalPattern.exec(text.trim());
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(leading).replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  return { negative: sign === '-', digits, exponent: whole.length - leading - 1 + Number(exponent) };
}

function decimalRule(decimal: Decimal): string | undefined {
  if (decimal.digits === '') return undefined;
  if (decimal.digits.length > maxNumberDigits) {
    return `has ${decimal.digits.length} significant digits; DynamoDB numbers hold at most ${maxNumberDigits}`;
  }
  if (decimal.exponent > maxNumberExponent) return 'magnitude of 1E+126 or more; DynamoDB stores less than that';
  if (decimal.exponent < minNumberExponent) return 'magnitude below 1E-130, the smallest DynamoDB stores';
  return undefined;
}

/**
 * One spelling per number value, so that sets can be checked for duplicates the way DynamoDB sees them (`1`, `1n` and
 * `NumberValue('1.0')` are one number).
 */
export function canonicalNumber(value: StorableNumber): string {
  const decimal = parseDecimal(
    typeof value === 'bigint' ? value.toString() : typeof value === 'number' ? String(value) : value.value,
  );
  if (decimal === undefined || decimal.digits === '') return '0';
  return `${decimal.negative ? '-' : ''}${decimal.digits}e${decimal.exponent}`;
}

/**
 * The stored size of a number: "approximately ... 1 byte per two significant digits, plus 1 byte" (Item sizes). Digits
 * pair up on the decimal point (DynamoDB stores base-100 digits), so 120 takes three bytes and 12 or 1200 two: counted
 * from the first to the last significant digit, aligned on even powers of ten. Measured against DynamoDB Local's
 * "Item size has exceeded" at exactly 400 KB.
 */
export function numberSize(value: StorableNumber): number {
  if (typeof value === 'number') {
    if (value === 0) return 1;
    if (Number.isSafeInteger(value)) return integerSize(value < 0 ? -value : value);
    const [mantissa = '', exponent = '0'] = value.toExponential().replace(/^-/, '').split('e');
    const first = Number(exponent);
    return pairedSize(first, first - (mantissa.replace('.', '').replace(/0+$/, '').length - 1));
  }
  const decimal = parseDecimal(typeof value === 'bigint' ? value.toString() : value.value);
  if (decimal === undefined || decimal.digits === '') return 1;
  return pairedSize(decimal.exponent, decimal.exponent - decimal.digits.length + 1);
}

function pairedSize(first: number, last: number): number {
  return Math.floor(first / 2) - Math.floor(last / 2) + 2;
}

/** {@link numberSize} of a positive safe integer, by arithmetic: most numbers are, and this runs on every write. */
function integerSize(value: number): number {
  let rest = value;
  let last = 0;
  while (rest % 10 === 0) {
    rest /= 10;
    last += 1;
  }
  let first = last;
  while (rest >= 10) {
    rest = Math.floor(rest / 10);
    first += 1;
  }
  return pairedSize(first, last);
}
