/**
 * @module The fuzz oracle: runs generated calls of racesafe's public functions against a real DynamoDB (DynamoDB Local
 * is the judge of what DynamoDB accepts), reads every stored item back raw, and puts each call in one bucket.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { convertToAttr, marshall, NumberValueImpl } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { RacesafeError } from '../../src/errors.js';
import { isUpdateOperation } from '../../src/expression/update.js';
import { canonicalNumber } from '../../src/rules/numbers.js';
import { defineTable, type Item, isReservedAttribute, type Table, type TableOptions } from '../../src/table.js';
import { createTable, uniqueTableName } from '../../src/testing/tables.js';
import { transaction } from '../../src/transaction/builder.js';
import { deleteIfNotNewer } from '../../src/write/delete-if-not-newer.js';
import { guardedUpdate } from '../../src/write/guarded-update.js';
import { putIfNewer } from '../../src/write/put-if-newer.js';
import { updateIfNewer } from '../../src/write/update-if-newer.js';
import * as gen from './arbitraries.js';

/** Where a call ends up. The last three are failures. */
export const buckets = [
  'stored equal',
  'refused before sending',
  'leaked',
  'crashed',
  'stored something else',
] as const;
export type Bucket = (typeof buckets)[number];
export const failing: readonly Bucket[] = ['leaked', 'crashed', 'stored something else'];

export interface Verdict {
  readonly bucket: Bucket;
  readonly op: string;
  readonly detail?: string;
}

export interface FuzzEngine {
  /** The caller's DocumentClient (removeUndefinedValues on, as test/engine.ts and the lab use). */
  readonly client: DynamoDBDocumentClient;
  /** The low-level client, for raw read-backs. */
  readonly dynamodb: DynamoDBClient;
}

/** A client that counts the requests racesafe sends through it. */
function counting(client: DynamoDBDocumentClient): { client: DynamoDBDocumentClient; sent: () => number } {
  let sent = 0;
  const wrapped = {
    config: client.config,
    send: (command: never) => {
      sent += 1;
      return client.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client: wrapped, sent: () => sent };
}

/** AttributeValues in one canonical, comparable form (numbers by value, sets unordered, binary as base64). */
function canonical(attribute: AttributeValue): unknown {
  const a: Record<string, unknown> = { ...attribute };
  if (a.S !== undefined) return { S: a.S };
  if (a.N !== undefined) return { N: canonicalNumber(NumberValueImpl.from(a.N as string)) };
  if (a.B !== undefined) return { B: Buffer.from(a.B as Uint8Array).toString('base64') };
  if (a.BOOL !== undefined) return { BOOL: a.BOOL };
  if (a.NULL !== undefined) return { NULL: true };
  if (a.SS !== undefined) return { SS: [...(a.SS as string[])].sort() };
  if (a.NS !== undefined) return { NS: (a.NS as string[]).map((n) => canonicalNumber(NumberValueImpl.from(n))).sort() };
  if (a.BS !== undefined) return { BS: (a.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')).sort() };
  if (a.L !== undefined) return { L: (a.L as AttributeValue[]).map(canonical) };
  if (a.M !== undefined) return { M: canonicalItem(a.M as Record<string, AttributeValue>) };
  return { unknown: Object.keys(a) };
}

function canonicalItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(item)
      .sort()
      .map((name) => [name, canonical(item[name] as AttributeValue)]),
  );
}

/** The stored item, raw, without racesafe's own attributes. */
async function readRaw(engine: FuzzEngine, table: Table, key: Item): Promise<Record<string, unknown> | undefined> {
  const result = await engine.dynamodb.send(
    new GetItemCommand({ TableName: table.name, Key: marshall(key), ConsistentRead: true }),
  );
  if (result.Item === undefined) return undefined;
  const own = Object.fromEntries(Object.entries(result.Item).filter(([name]) => !isReservedAttribute(table, name)));
  return canonicalItem(own);
}

function expectedCanonical(item: Item): Record<string, unknown> | string {
  try {
    // Attribute by attribute, as lib-dynamodb marshals a request's Item.
    const marshalled: Record<string, AttributeValue> = {};
    for (const [name, value] of Object.entries(item)) {
      if (value !== undefined) marshalled[name] = convertToAttr(value, { removeUndefinedValues: true });
    }
    return canonicalItem(marshalled);
  } catch (error) {
    return `unmarshallable: ${(error as Error).message}`;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The bucket of a call that threw. */
function thrown(error: unknown, sentBefore: number, sentAfter: number): { bucket: Bucket; detail: string } {
  const detail = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error);
  if (error instanceof RacesafeError && (error.is('validation.invalidInput') || error.is('validation.invalidOption'))) {
    return { bucket: sentAfter === sentBefore ? 'refused before sending' : 'leaked', detail };
  }
  if (error instanceof RacesafeError) return { bucket: 'leaked', detail };
  if (error instanceof TypeError || error instanceof RangeError) return { bucket: 'crashed', detail };
  return { bucket: sentAfter === sentBefore ? 'crashed' : 'leaked', detail };
}

/** Everything a case needs: its own key on the shared tables. */
interface CaseContext {
  readonly engine: FuzzEngine;
  readonly table: Table;
  readonly sent: () => number;
  readonly pk: string;
}

/** A generated call: runs it and says what it expects stored (undefined: nothing to compare). */
type Case = (context: CaseContext) => Promise<Verdict>;

async function judged(
  context: CaseContext,
  op: string,
  call: () => Promise<unknown>,
  expected: (result: unknown) => { key: Item; item: Item | undefined; table?: Table } | string,
): Promise<Verdict> {
  const before = context.sent();
  let result: unknown;
  try {
    result = await call();
  } catch (error) {
    return { op, ...thrown(error, before, context.sent()) };
  }
  const wanted = expected(result);
  if (typeof wanted === 'string') return { op, bucket: 'stored something else', detail: wanted };
  const stored = await readRaw(context.engine, wanted.table ?? context.table, wanted.key);
  const want = wanted.item === undefined ? undefined : expectedCanonical(wanted.item);
  if (same(stored, want)) return { op, bucket: 'stored equal' };
  return {
    op,
    bucket: 'stored something else',
    detail: `stored ${JSON.stringify(stored)?.slice(0, 300)} wanted ${JSON.stringify(want)?.slice(0, 300)}`,
  };
}

/** What `changes` leave on an item that had `base`, by racesafe's documented semantics of each operation. */
function applied(base: Item, changes: Record<string, unknown>): Item {
  const next: Item = { ...base };
  for (const [name, change] of Object.entries(changes)) {
    if (!isUpdateOperation(change)) {
      next[name] = change;
      continue;
    }
    const operation = change as unknown as Record<symbol | string, unknown>;
    const kind = Object.getOwnPropertySymbols(operation).map((symbol) => operation[symbol])[0];
    if (kind === 'remove') delete next[name];
    else if (kind === 'increment') next[name] = ((next[name] as number | undefined) ?? 0) + (operation.by as number);
    else if (kind === 'setIfNotExists') next[name] = next[name] === undefined ? operation.value : next[name];
    else if (kind === 'append')
      next[name] = [...((next[name] as unknown[] | undefined) ?? []), ...(operation.values as unknown[])];
  }
  return next;
}

/** Deletes whatever a hostile, repeated key left from an earlier case (keys racesafe refuses are ignored). */
async function forget(context: CaseContext, pk: unknown): Promise<void> {
  if (typeof pk !== 'string' || pk === '') return;
  await context.engine.dynamodb
    .send(new DeleteItemCommand({ TableName: context.table.name, Key: marshall({ pk }) }))
    .catch(() => undefined);
}

const status = (result: unknown) => (result as { status?: string } | undefined)?.status;

const putCase = fc
  .record({ attributes: gen.attributes, version: gen.version, pk: fc.option(gen.partitionKeyValue, { freq: 8 }) })
  .map(
    (input): Case =>
      async (context) => {
        const pk = input.pk ?? context.pk;
        const item = { ...input.attributes, pk, version: input.version };
        await forget(context, pk);
        return judged(
          context,
          'putIfNewer',
          () => putIfNewer(context.table, item),
          (result) =>
            status(result) === 'applied' ? { key: { pk }, item } : `status ${status(result)} on a fresh key`,
        );
      },
  );

const updateCase = fc.record({ changes: gen.changes, version: gen.version }).map(
  (input): Case =>
    (context) => {
      const key = { pk: context.pk };
      return judged(
        context,
        'updateIfNewer',
        () => updateIfNewer(context.table, key, input.version as never, input.changes),
        (result) =>
          status(result) === 'applied'
            ? { key, item: applied({ ...key, version: input.version }, input.changes) }
            : `status ${status(result)} on a fresh key`,
      );
    },
);

const base = (pk: string): Item => ({ pk, version: 1, q: 5, s: 'x' });

async function putBase(context: CaseContext): Promise<Item> {
  const item = base(context.pk);
  await context.engine.dynamodb.send(new PutItemCommand({ TableName: context.table.name, Item: marshall(item) }));
  return item;
}

const guardedCase = fc.record({ changes: gen.changes, guard: gen.guard }).map(
  (input): Case =>
    async (context) => {
      const stored = await putBase(context);
      return judged(
        context,
        'guardedUpdate',
        () =>
          guardedUpdate(context.table, { pk: context.pk }, { changes: input.changes, require: input.guard as never }),
        (result) => {
          if (status(result) === 'applied') return { key: { pk: context.pk }, item: applied(stored, input.changes) };
          if (status(result) === 'rejected') return { key: { pk: context.pk }, item: stored };
          return `status ${status(result)} over a stored item`;
        },
      );
    },
);

const deleteCase = fc
  .record({
    version: gen.version,
    mode: fc.constantFrom(undefined, 'tombstone', 'delete', 'nope'),
    ttl: fc.option(fc.record({ attribute: gen.attributeName, seconds: fc.constantFrom(60, 0, -1, 1.5) }), { freq: 2 }),
  })
  .map(
    (input): Case =>
      async (context) => {
        const stored = await putBase(context);
        const options = {
          ...(input.mode === undefined ? {} : { mode: input.mode as never }),
          ...(input.ttl === null ? {} : { tombstoneTtl: input.ttl }),
        };
        return judged(
          context,
          'deleteIfNotNewer',
          () => deleteIfNotNewer(context.table, { pk: context.pk }, input.version as never, options),
          (result) => {
            const key = { pk: context.pk };
            // Stale, or rejected (a string version cannot be ordered against the stored number): nothing changed.
            if (status(result) === 'stale' || status(result) === 'rejected') return { key, item: stored };
            if (status(result) !== 'applied') return `status ${status(result)}`;
            if (input.mode === 'delete') return { key, item: undefined };
            // A tombstone keeps the key and the delete's version (its TTL epoch is checked for presence only).
            return {
              key,
              item: { ...key, version: input.version, ...(input.ttl ? { [input.ttl.attribute]: 0 } : {}) },
            };
          },
        ).then((verdict) => ttlTolerant(verdict, input.ttl?.attribute));
      },
  );

/** A tombstone's TTL epoch is the clock's: the comparison above used 0, so accept any number there. */
function ttlTolerant(verdict: Verdict, attribute: string | undefined): Verdict {
  if (verdict.bucket !== 'stored something else' || attribute === undefined || verdict.detail === undefined)
    return verdict;
  const normalized = verdict.detail.replace(
    new RegExp(`"${escapedPattern(attribute)}":\\{"N":"[^"]*"\\}`, 'g'),
    '"ttl"',
  );
  const [stored, wanted] = normalized.replace(/^stored /, '').split(' wanted ');
  return stored === wanted ? { ...verdict, bucket: 'stored equal' } : verdict;
}

function escapedPattern(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const transactionCase = fc
  .record({
    attributes: gen.attributes,
    changes: gen.changes,
    sameKey: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
  })
  .map(
    (input): Case =>
      (context) => {
        const first = { ...input.attributes, pk: context.pk };
        const second = { pk: input.sameKey ? Buffer.from(context.pk) : `${context.pk}-2` };
        return judged(
          context,
          'transaction',
          () =>
            transaction()
              .put(context.table, first)
              .update(context.table, second as Item, { changes: input.changes })
              .commit(),
          () => ({ key: { pk: context.pk }, item: first }),
        );
      },
  );

const callOptionsCase = fc
  .record({ name: fc.constantFrom('observe', 'context', 'retry', 'extra'), value: gen.anything })
  .map(
    (input): Case =>
      (context) => {
        const item = { pk: context.pk, version: 1, a: 1 };
        return judged(
          context,
          'putIfNewer options',
          () => putIfNewer(context.table, item, { [input.name]: input.value } as never),
          (result) => (status(result) === 'applied' ? { key: { pk: context.pk }, item } : `status ${status(result)}`),
        );
      },
  );

const tableOptionsCase = fc
  .record({
    role: fc.constantFrom(
      'versionAttribute',
      'writeTokenAttribute',
      'tombstoneAttribute',
      'sortKey',
      'partitionKeyType',
      'observe',
      'nope',
    ),
    value: fc.oneof(gen.attributeName, gen.anything, fc.constantFrom('pk', 'version', 'S', 'N')),
  })
  .map(
    (input): Case =>
      (context) => {
        const item = { pk: context.pk, version: 1, a: 1 };
        let defined: Table | undefined;
        return judged(
          context,
          'defineTable options',
          async () => {
            const options = {
              client: context.table.client,
              name: context.table.name,
              partitionKey: 'pk',
              [input.role]: input.value,
            };
            defined = defineTable(options as unknown as TableOptions);
            return putIfNewer(defined, { ...item, [defined.versionAttribute]: 1 });
          },
          (result) =>
            status(result) === 'applied' && defined !== undefined
              ? { key: { pk: context.pk }, item: { ...item, [defined.versionAttribute]: 1 }, table: defined }
              : `status ${status(result)}`,
        );
      },
  );

/** Every kind of case, weighted. */
export const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 5, arbitrary: putCase },
  { weight: 4, arbitrary: updateCase },
  { weight: 3, arbitrary: guardedCase },
  { weight: 2, arbitrary: deleteCase },
  { weight: 2, arbitrary: transactionCase },
  { weight: 1, arbitrary: callOptionsCase },
  { weight: 1, arbitrary: tableOptionsCase },
);

export interface FuzzReport {
  readonly seed: number;
  readonly runs: number;
  readonly counts: Readonly<Record<Bucket, number>>;
  readonly byOperation: Readonly<Record<string, Partial<Record<Bucket, number>>>>;
  /** The first few failing cases, with what happened. */
  readonly failures: readonly Verdict[];
}

/**
 * Runs `runs` generated cases with `seed` against the engine, on a fresh table, and counts the buckets. It never
 * throws for a failing case: the caller decides (the test fails on any case in {@link failing}).
 */
export async function runFuzz(engine: FuzzEngine, options: { seed: number; runs: number }): Promise<FuzzReport> {
  const name = uniqueTableName('fuzz');
  await createTable(engine.dynamodb, { name, partitionKey: { name: 'pk', type: 'S' } });
  const counted = counting(engine.client);
  const table = defineTable({ client: counted.client, name, partitionKey: 'pk', partitionKeyType: 'S' });
  const counts = Object.fromEntries(buckets.map((bucket) => [bucket, 0])) as Record<Bucket, number>;
  const byOperation: Record<string, Partial<Record<Bucket, number>>> = {};
  const failures: Verdict[] = [];
  const cases = fc.sample(fuzzCase, { seed: options.seed, numRuns: options.runs });
  let index = 0;
  for (const run of cases) {
    index += 1;
    const pk = `case-${options.seed}-${index}`;
    const verdict = await run({ engine, table, sent: counted.sent, pk }).catch(
      (error: unknown): Verdict => ({ op: 'harness', bucket: 'crashed', detail: String(error) }),
    );
    counts[verdict.bucket] += 1;
    const row = byOperation[verdict.op] ?? {};
    byOperation[verdict.op] = row;
    row[verdict.bucket] = (row[verdict.bucket] ?? 0) + 1;
    if (failing.includes(verdict.bucket) && failures.length < 20)
      failures.push({ ...verdict, detail: `#${index} ${verdict.detail ?? ''}` });
    // Keys some cases choose themselves (hostile ones) may repeat: start each case from nothing.
    await engine.dynamodb
      .send(new DeleteItemCommand({ TableName: name, Key: marshall({ pk }) }))
      .catch(() => undefined);
  }
  return { seed: options.seed, runs: options.runs, counts, byOperation, failures };
}

/** The report as lines for a terminal. */
export function formatReport(report: FuzzReport): string {
  const lines = [`fuzz: ${report.runs} cases, seed ${report.seed}`];
  for (const bucket of buckets) lines.push(`  ${bucket.padEnd(24)} ${report.counts[bucket]}`);
  lines.push('  by operation:');
  for (const [op, row] of Object.entries(report.byOperation)) {
    lines.push(`    ${op.padEnd(22)} ${buckets.map((bucket) => `${row[bucket] ?? 0}`).join(' / ')}`);
  }
  for (const failure of report.failures) lines.push(`  ${failure.bucket} in ${failure.op}: ${failure.detail}`);
  return lines.join('\n');
}
