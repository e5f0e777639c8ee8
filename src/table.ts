/** @module The table handle: the caller's DocumentClient, the table's keys and version attribute, and item rules. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption, rejectUnknownOptions } from './errors.js';
import type { Observer } from './observe/events.js';

/** A version: a positive safe integer, or a non-empty string whose string order is version order. */
export type Version = number | string;

/** An item as the DocumentClient reads and writes it. */
export type Item = Record<string, unknown>;

export interface TableOptions {
  /** The caller's DocumentClient. racesafe never creates or destroys it. */
  readonly client: DynamoDBDocumentClient;
  /** The table's name. */
  readonly name: string;
  /** The partition key attribute. */
  readonly partitionKey: string;
  /** The sort key attribute, if the table has one. @default none */
  readonly sortKey?: string;
  /** Where each item keeps its version. @default 'version' */
  readonly versionAttribute?: string;
  /**
   * Where a version-monotonic write (putIfNewer, updateIfNewer, a tombstone) stores its write token, so that a resend
   * after a lost response recognises its own earlier attempt. One short attribute; other writes leave it alone.
   * @default '_rsToken'
   */
  readonly writeTokenAttribute?: string;
  /** Marks a tombstone left by `deleteIfNotNewer`. @default '_rsDeleted' */
  readonly tombstoneAttribute?: string;
  /** Receives every outcome of every operation on this table. @default none */
  readonly observe?: Observer | readonly Observer[];
}

/** A table handle: plain data, cheap to create, safe to share. */
export interface Table {
  readonly client: DynamoDBDocumentClient;
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string | undefined;
  readonly versionAttribute: string;
  readonly writeTokenAttribute: string;
  readonly tombstoneAttribute: string;
  readonly observers: readonly Observer[];
}

const tableOptionNames = [
  'client',
  'name',
  'partitionKey',
  'sortKey',
  'versionAttribute',
  'writeTokenAttribute',
  'tombstoneAttribute',
  'observe',
];

/**
 * Describes a table for racesafe's primitives.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { defineTable } from 'racesafe';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
 * ```
 */
export function defineTable(options: TableOptions): Table {
  rejectUnknownOptions(options, tableOptionNames, 'defineTable');
  if (typeof options.client?.send !== 'function') throw invalidOption('client', 'must be a DynamoDBDocumentClient');
  for (const field of ['name', 'partitionKey'] as const) {
    if (typeof options[field] !== 'string' || options[field] === '')
      throw invalidOption(field, 'must be a non-empty string');
  }
  for (const field of ['sortKey', 'versionAttribute', 'writeTokenAttribute', 'tombstoneAttribute'] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw invalidOption(field, 'must be a non-empty string when given');
    }
  }
  const versionAttribute = options.versionAttribute ?? 'version';
  const keys = [options.partitionKey, options.sortKey];
  if (keys.includes(versionAttribute)) throw invalidOption('versionAttribute', 'must not be a key attribute');
  const observe = options.observe;
  return {
    client: options.client,
    name: options.name,
    partitionKey: options.partitionKey,
    sortKey: options.sortKey,
    versionAttribute,
    writeTokenAttribute: options.writeTokenAttribute ?? '_rsToken',
    tombstoneAttribute: options.tombstoneAttribute ?? '_rsDeleted',
    observers: observe === undefined ? [] : typeof observe === 'function' ? [observe] : [...observe],
  };
}

/** The key attributes of a table, in order. */
export function keyAttributes(table: Table): string[] {
  return table.sortKey === undefined ? [table.partitionKey] : [table.partitionKey, table.sortKey];
}

/**
 * The key of an item (or a key object), validated: each key attribute must be a non-empty string, a finite number or
 * binary. `field` names the argument in errors.
 */
export function keyOf(table: Table, source: Item, field: string): Item {
  if (typeof source !== 'object' || source === null) throw invalidInput(field, 'must be an object');
  const key: Item = {};
  for (const attribute of keyAttributes(table)) {
    const value = source[attribute];
    const valid =
      (typeof value === 'string' && value !== '') ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      value instanceof Uint8Array;
    if (!valid) {
      throw invalidInput(
        `${field}.${attribute}`,
        'key attribute is required: a non-empty string, a finite number or binary',
      );
    }
    key[attribute] = value;
  }
  return key;
}

/** Validates a version: a positive safe integer or a non-empty string. */
export function checkVersion(version: unknown, field: string): asserts version is Version {
  if (typeof version === 'number') {
    if (!Number.isSafeInteger(version) || version <= 0) {
      throw invalidInput(
        field,
        'a numeric version must be a positive safe integer (1 to 2^53-1), not NaN or a fraction',
      );
    }
    return;
  }
  if (typeof version === 'string') {
    if (version === '') throw invalidInput(field, 'a string version must be non-empty');
    return;
  }
  throw invalidInput(field, 'version is required: a positive safe integer or an ordered (zero-padded) string');
}

/** Orders two versions of one type; undefined when their types differ (DynamoDB cannot compare them either). */
export function compareVersions(a: unknown, b: Version): number | undefined {
  if (typeof a !== typeof b) return undefined;
  const x = a as Version;
  return x < b ? -1 : x > b ? 1 : 0;
}

/**
 * Zero-pads a decimal sequence number so that string order is numeric order. Kinesis sequence numbers have up to 56
 * digits (more than a DynamoDB number's 38), so store them as padded strings.
 *
 * @example
 * ```ts
 * import { orderedVersion } from 'racesafe';
 *
 * const version = orderedVersion('49590338271490256608559692538361571095921575989136588898');
 * ```
 */
export function orderedVersion(sequenceNumber: string | bigint, width = 64): string {
  const digits = String(sequenceNumber);
  if (!/^\d+$/.test(digits)) throw invalidInput('sequenceNumber', 'must be a non-negative decimal integer');
  if (digits.length > width) throw invalidInput('sequenceNumber', `must have at most ${width} digits`);
  return digits.padStart(width, '0');
}

/** DynamoDB's item size limit. */
export const maxItemBytes = 400 * 1024;

/**
 * The item's size as DynamoDB counts it (attribute names plus values, UTF-8), closely enough to reject an oversized
 * item before sending it. Close to the limit the service has the last word: it may still refuse an item a few bytes
 * under it.
 */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += attributeSize(name, value);
  return size;
}

/** The stored size of one attribute, name included, by DynamoDB's rules (0 for undefined: it is not stored). */
export function attributeSize(name: string, value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(name) + valueSize(value);
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, element) => sum + valueSize(element), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueSize(element), 0);
  if (typeof value === 'object') return 3 + itemSize(value as Item) + Object.keys(value).length;
  return 0;
}

/**
 * The stored size of a number, estimated: one byte per base-100 digit from its first to its last significant decimal
 * digit, pairs aligned on the decimal point (so 120 takes two, 12 one), plus one. DynamoDB documents "about one byte
 * per two significant digits, plus one"; a flat worst case (21 bytes) refused a list of 50,000 small numbers that it
 * stores.
 */
function numberSize(value: number | bigint): number {
  if (value === 0 || value === 0n) return 1;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return integerSize(Math.abs(value));
  // "d.ddde±x": the first significant digit has power x, the last x minus the digits after it.
  const [mantissa = '', exponent = '0'] = (typeof value === 'bigint' ? bigintExponential(value) : value.toExponential())
    .replace(/^-/, '')
    .split('e');
  const first = Number(exponent);
  const last = first - (mantissa.replace('.', '').replace(/0+$/, '').length - 1);
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
  return Math.floor(first / 2) - Math.floor(last / 2) + 2;
}

/** A bigint in `toExponential()` form. */
function bigintExponential(value: bigint): string {
  const digits = (value < 0n ? -value : value).toString();
  return `${digits[0]}.${digits.slice(1)}e${digits.length - 1}`;
}

/** Rejects an item over DynamoDB's 400 KB limit before any request is sent. */
export function checkItemSize(item: Item, field: string): void {
  const size = itemSize(item);
  if (size > maxItemBytes) {
    throw invalidInput(field, `item is ${size} bytes; DynamoDB items must be at most 400 KB (${maxItemBytes} bytes)`);
  }
}

/** Rejects NaN and ±Infinity anywhere in an item: DynamoDB cannot store them. */
export function checkFiniteNumbers(value: unknown, field: string): void {
  const path = nonFinitePath(value);
  if (path !== undefined) {
    throw invalidInput(`${field}${path}`, 'must be a finite number (NaN and Infinity cannot be stored)');
  }
}

/** The path (`.a[2]`) to the first NaN or ±Infinity in `value`; built only when there is one, since this runs on every write. */
function nonFinitePath(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : '';
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return undefined;
  // A set has no positions to name: the path is the set's.
  if (value instanceof Set) return [...value].some((member) => nonFinitePath(member) !== undefined) ? '' : undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const path = nonFinitePath(value[index]);
      if (path !== undefined) return `[${index}]${path}`;
    }
    return undefined;
  }
  for (const name of Object.keys(value)) {
    const path = nonFinitePath((value as Item)[name]);
    if (path !== undefined) return `.${name}${path}`;
  }
  return undefined;
}

/** Whether a stored item is a tombstone left by `deleteIfNotNewer`. */
export function isTombstone(table: Table, item: Item | undefined): boolean {
  return item !== undefined && item[table.tombstoneAttribute] === true;
}

/**
 * The attribute names racesafe reserves on a table's items (the write token and the tombstone mark): users' items,
 * changes and guards must not use them. {@link isReservedAttribute} also recognises the `<writeTokenAttribute>0`…`15`
 * register of racesafe before 0.2, which old items may still carry.
 */
export function reservedAttributeNames(table: Table): readonly string[] {
  return [table.writeTokenAttribute, table.tombstoneAttribute];
}

/** Whether `name` is one of racesafe's reserved attributes on this table (see {@link reservedAttributeNames}). */
export function isReservedAttribute(table: Table, name: string): boolean {
  return name === table.tombstoneAttribute || isTokenAttribute(table, name);
}

/** The item without racesafe's bookkeeping attributes (the write token, the tombstone mark). */
export function withoutBookkeeping<T extends Item>(table: Table, item: T): T {
  // Runs on every write's hot path: plain loops, no regex, and items without bookkeeping are returned as they are.
  const names = Object.keys(item);
  if (!names.some((name) => isReservedAttribute(table, name))) return item;
  const copy: Item = {};
  for (const name of names) if (!isReservedAttribute(table, name)) copy[name] = item[name];
  return copy as T;
}

/**
 * Whether an attribute is the write token (`<writeTokenAttribute>`), or a slot of the token register that racesafe
 * before 0.2 kept (`<writeTokenAttribute><digits>`): old items may still carry it, and it is hidden and reserved too.
 */
export function isTokenAttribute(table: Table, name: string): boolean {
  const prefix = table.writeTokenAttribute.length;
  if (!name.startsWith(table.writeTokenAttribute)) return false;
  for (let i = prefix; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 48 || code > 57) return false; // not 0-9
  }
  return true;
}
