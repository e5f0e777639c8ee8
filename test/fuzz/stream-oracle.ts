/**
 * @module The stream part of the fuzz oracle: generated batches (hostile records, versions whose UTF-8 order differs
 * from JavaScript's, duplicates, out-of-order versions, hot keys) through `kinesisHandler`, `dynamoDBStreamHandler`
 * and `sqsHandler` writing with `putIfNewer` to DynamoDB Local; every record ends in one bucket, and what each key
 * holds is judged against DynamoDB's own conditional put of the same records on a second table.
 */
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, NumberValueImpl } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, KinesisStreamRecord, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { RacesafeError } from '../../src/errors.js';
import type { OutcomeEvent } from '../../src/observe/events.js';
import { canonicalNumber } from '../../src/rules/numbers.js';
import type { PoisonKind, PoisonRecord } from '../../src/stream/poison.js';
import { dynamoDBStreamHandler } from '../../src/stream/sources/dynamodb-streams.js';
import { kinesisHandler } from '../../src/stream/sources/kinesis.js';
import { sqsHandler } from '../../src/stream/sources/sqs.js';
import {
  dynamoDBRecord,
  kinesisRecord,
  kinesisRecordWithData,
  sequenceNumber,
  sqsRecord,
} from '../../src/stream/stream.test-support.js';
import { defineTable, type Item, isReservedAttribute, type Table } from '../../src/table.js';
import { createTable, uniqueTableName } from '../../src/testing/tables.js';
import { putIfNewer } from '../../src/write/put-if-newer.js';
import type { FuzzEngine } from './oracle.js';

/** Where a record (or, for the option buckets, a batch) ends up. Failing buckets are in {@link failingStream}. */
export const streamBuckets = [
  'stored equal',
  'poisoned with a reason',
  'reported failed',
  'handled, key redelivered',
  'options refused',
  'lost',
  'crashed',
  'leaked',
  'stored something else',
  'bad option accepted',
] as const;
export type StreamBucket = (typeof streamBuckets)[number];
export const failingStream: readonly StreamBucket[] = [
  'lost',
  'crashed',
  'leaked',
  'stored something else',
  'bad option accepted',
];

const poisonKinds: readonly PoisonKind[] = ['undecodable', 'invalid', 'missingKey', 'invalidVersion', 'invalidInput'];

type SourceName = 'kinesis' | 'dynamodb' | 'sqs' | 'sqs-fifo';

/** One generated record, before it is dressed as its source's Lambda record. */
type RecordSpec =
  | { readonly kind: 'item'; readonly key: number; readonly version: unknown; readonly attributes: Item }
  | { readonly kind: 'noKey'; readonly version: unknown }
  | { readonly kind: 'notAnObject'; readonly body: unknown }
  | { readonly kind: 'undecodable'; readonly how: 'base64' | 'utf8' | 'json' | 'event' }
  | { readonly kind: 'duplicate'; readonly of: number };

/**
 * String versions from characters whose UTF-8 order differs from their UTF-16 order: U+E000-U+FFFF against
 * surrogate pairs (U+10000 and up), plus ASCII and a 2-byte character.
 */
const stringVersion = fc
  .array(fc.constantFrom('a', 'z', '\u00e9', '\uE000', '\uFFFD', '\u{10000}', '\u{1F600}'), {
    minLength: 1,
    maxLength: 3,
  })
  .map((parts) => parts.join(''));

const hostileVersion = fc.constantFrom(0, -1, 1.5, '', null, 2 ** 53, { v: 1 }, true, 'a\uD800');

const attributeName = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('a', 'b', 'status', 'SET', '#x', ':v', 'a.b', 'with space', '\u{1F600}') },
  { weight: 1, arbitrary: fc.constantFrom('', 'a\uD800', '_rsToken', '_rsToken3', '_rsDeleted', '__proto__') },
);

function nested(levels: number): unknown {
  let inner: unknown = 'bottom';
  for (let level = 0; level < levels; level++) inner = { a: inner };
  return inner;
}

const attributeValue = fc.oneof(
  { weight: 12, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e300, -1e-200, 2 ** 60, '\uFFFD', '\u{1F600}') },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 33 }).map(nested) },
);

const attributes: fc.Arbitrary<Item> = fc.oneof(
  { weight: 20, arbitrary: fc.dictionary(attributeName, attributeValue, { maxKeys: 4 }) },
  // Huge items: a few bytes either side of DynamoDB's 400 KB with racesafe's token.
  { weight: 1, arbitrary: fc.integer({ min: 409_500, max: 409_620 }).map((n) => ({ big: 'x'.repeat(n) })) },
);

/** The versions one key's records carry in a batch: mostly one type, sometimes mixed, sometimes invalid. */
const versionOf = (type: 'number' | 'string' | 'mixed') =>
  fc.oneof(
    {
      weight: 12,
      arbitrary:
        type === 'number'
          ? fc.integer({ min: 1, max: 6 })
          : type === 'string'
            ? stringVersion
            : fc.oneof(fc.integer({ min: 1, max: 6 }), stringVersion),
    },
    { weight: 1, arbitrary: hostileVersion },
  );

const recordSpec = (keys: number, type: 'number' | 'string' | 'mixed', index: number): fc.Arbitrary<RecordSpec> =>
  fc.oneof(
    {
      weight: 20,
      arbitrary: fc.record({
        kind: fc.constant('item' as const),
        key: fc.integer({ min: 0, max: keys - 1 }),
        version: versionOf(type),
        attributes,
      }),
    },
    {
      weight: index > 0 ? 3 : 0,
      arbitrary: fc.integer({ min: 0, max: Math.max(0, index - 1) }).map((of) => ({ kind: 'duplicate' as const, of })),
    },
    { weight: 1, arbitrary: versionOf(type).map((version) => ({ kind: 'noKey' as const, version })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(5, null, 'text', [1]).map((body) => ({ kind: 'notAnObject' as const, body })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('base64', 'utf8', 'json', 'event')
        .map((how) => ({ kind: 'undecodable' as const, how: how as 'base64' | 'utf8' | 'json' | 'event' })),
    },
  );

/** Option values: mostly valid, sometimes values the handler must refuse when it is built. */
const optionValue = <T>(valid: fc.Arbitrary<T>, hostile: readonly unknown[]) =>
  fc.oneof(
    { weight: 25, arbitrary: valid.map((value) => ({ value, hostile: false })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...hostile).map((value) => ({ value, hostile: true })),
    },
  );

export interface StreamCase {
  readonly source: SourceName;
  readonly type: 'number' | 'string' | 'mixed';
  readonly keys: number;
  readonly records: readonly RecordSpec[];
  readonly collapse: { value: unknown; hostile: boolean };
  readonly concurrency: { value: unknown; hostile: boolean };
  /** `none`: poison records are reported failed; `failing`: the sink throws for every other record. */
  readonly sink: { value: unknown; hostile: boolean };
  /** Lanes by the item's key (`key: e => e.pk`), or the source's default lanes (SQS standard: one per message). */
  readonly laneByItemKey: boolean;
  readonly observeAsArray: boolean;
}

const batchShape = fc.oneof(
  { weight: 5, arbitrary: fc.record({ keys: fc.integer({ min: 1, max: 3 }), size: fc.integer({ min: 1, max: 12 }) }) },
  // A hot key: many records of one key (what collapse is for).
  { weight: 1, arbitrary: fc.record({ keys: fc.constant(1), size: fc.integer({ min: 15, max: 30 }) }) },
);

export const streamCase: fc.Arbitrary<StreamCase> = fc
  .record({
    source: fc.constantFrom<SourceName>('kinesis', 'dynamodb', 'sqs', 'sqs-fifo'),
    type: fc.constantFrom<'number' | 'string' | 'mixed'>('number', 'string', 'string', 'mixed'),
    shape: batchShape,
    collapse: optionValue(fc.boolean(), ['yes', 1, null]),
    concurrency: optionValue(fc.constantFrom(1, 2, 16, 1000), [0, 1001, 1.5, Number.NaN, '4']),
    sink: optionValue(fc.constantFrom('sink', 'sink', 'none', 'failing'), [5, 'x', {}]),
    laneByItemKey: fc.boolean(),
    observeAsArray: fc.boolean(),
  })
  .chain((input) =>
    fc
      .tuple(...Array.from({ length: input.shape.size }, (_, index) => recordSpec(input.shape.keys, input.type, index)))
      .map((records) => ({ ...input, keys: input.shape.keys, records })),
  );

/** A record as generated, dressed, with what its body is when it is an item. */
interface Dressed<Raw> {
  readonly raw: Raw;
  readonly id: string;
  readonly body: unknown;
}

function dress(source: SourceName, records: readonly RecordSpec[], pkOf: (key: number) => string) {
  const bodies: unknown[] = [];
  const dressed: Dressed<unknown>[] = [];
  records.forEach((spec, index) => {
    const n = index + 1;
    let body: unknown;
    if (spec.kind === 'item') body = { ...spec.attributes, pk: pkOf(spec.key), version: spec.version };
    else if (spec.kind === 'duplicate') body = bodies[spec.of];
    else if (spec.kind === 'noKey') body = { version: spec.version, a: 1 };
    else if (spec.kind === 'notAnObject') body = spec.body;
    bodies.push(body);
    const laneKey = typeof body === 'object' && body !== null && 'pk' in body ? String(body.pk) : `loose-${n}`;
    if (source === 'kinesis') {
      let raw: KinesisStreamRecord;
      if (spec.kind === 'undecodable' && spec.how === 'base64') raw = kinesisRecordWithData(laneKey, 'not base64!', n);
      else if (spec.kind === 'undecodable' && spec.how === 'utf8')
        raw = kinesisRecord(laneKey, new Uint8Array([0xff, 0xfe, 0x7b]), n);
      else if (spec.kind === 'undecodable') raw = kinesisRecord(laneKey, new TextEncoder().encode('{"pk":'), n);
      else raw = kinesisRecord(laneKey, new TextEncoder().encode(JSON.stringify(body)), n);
      dressed.push({ raw, id: sequenceNumber(n), body });
    } else if (source === 'dynamodb') {
      const image =
        body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Item) : { value: body };
      let raw: DynamoDBRecord;
      try {
        raw = dynamoDBRecord(laneKey, image, n);
      } catch {
        raw = dynamoDBRecord(laneKey, { unmarshallable: true }, n);
      }
      if (spec.kind === 'undecodable') {
        const stream = raw.dynamodb ?? {};
        if (spec.how === 'event') raw = { ...raw, eventName: 'BOGUS' as never };
        else if (spec.how === 'json')
          raw = { ...raw, eventName: 'REMOVE', dynamodb: { ...stream, NewImage: undefined } };
        else raw = { ...raw, dynamodb: { ...stream, NewImage: { ...stream.NewImage, bin: { B: 'not base64!' } } } };
      }
      dressed.push({ raw, id: String(1000 + n), body: spec.kind === 'undecodable' ? undefined : body });
    } else {
      const group = source === 'sqs-fifo' ? laneKey : undefined;
      const text =
        spec.kind === 'undecodable' ? (spec.how === 'utf8' ? '\uFFFD{' : '{"pk":') : (JSON.stringify(body) ?? 'null');
      const raw: SQSRecord = sqsRecord(`m-${n}`, text, group);
      dressed.push({ raw, id: `m-${n}`, body });
    }
  });
  return dressed;
}

export interface StreamVerdict {
  readonly bucket: StreamBucket;
  readonly detail?: string;
}

/** Everything a batch needs: the state table, the oracle table with the same key, and its own key prefix. */
interface StreamContext {
  readonly engine: FuzzEngine;
  readonly table: Table;
  /** The state table's handle on a client that sends nothing: racesafe's checks alone, for the oracle. */
  readonly checksOnly: Table;
  readonly oracle: string;
  readonly prefix: string;
}

/** The stored item, raw, without racesafe's bookkeeping, as a comparable string. */
async function readBack(engine: FuzzEngine, tableName: string, table: Table, pk: string): Promise<string | undefined> {
  const result = await engine.dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: marshall({ pk }), ConsistentRead: true }),
  );
  if (result.Item === undefined) return undefined;
  return canonical(result.Item, table);
}

function canonical(item: Record<string, AttributeValue>, table: Table): string {
  const own = Object.keys(item)
    .filter((name) => !isReservedAttribute(table, name))
    .sort()
    .map((name) => [name, canonicalValue(item[name] as AttributeValue)]);
  return JSON.stringify(own);
}

/** One form per stored value: map entries sorted at every level, numbers as DynamoDB normalizes them. */
function canonicalValue(value: AttributeValue): unknown {
  if (value.N !== undefined) return { N: canonicalNumber(NumberValueImpl.from(value.N)) };
  if (value.L !== undefined) return { L: value.L.map(canonicalValue) };
  if (value.M !== undefined) {
    const map = value.M;
    return {
      M: Object.keys(map)
        .sort()
        .map((name) => [name, canonicalValue(map[name] as AttributeValue)]),
    };
  }
  return value;
}

/** What DynamoDB stores for `item` written as is (the oracle's form of a handled record), or undefined. */
function asStored(item: unknown, table: Table): string | undefined {
  try {
    return canonical(marshall(item as Item, { removeUndefinedValues: true }), table);
  } catch {
    return undefined;
  }
}

/**
 * Runs one generated batch and classifies every record. The oracle replays the handled records of each key, in
 * delivery order, as plain conditional puts (`attribute_not_exists(pk) OR version < :v`) on the oracle table: the
 * version DynamoDB keeps is the one the state table must hold.
 */
export async function runStreamCase(context: StreamContext, input: StreamCase): Promise<StreamVerdict[]> {
  const { table } = context;
  const pkOf = (key: number) => `${context.prefix}-k${key}`;
  const dressed = dress(input.source, input.records, pkOf);
  const events = new Map<string, OutcomeEvent[]>();
  const observe = (event: OutcomeEvent) => {
    const id = String(event.context?.itemIdentifier ?? '');
    events.set(id, [...(events.get(id) ?? []), event]);
  };
  const sunk = new Map<string, PoisonRecord<unknown>>();
  const crashed = new Map<string, string>();
  const leaked = new Map<string, string>();
  const handled = new Map<string, unknown>();
  let sinkCalls = 0;
  const sinks: Record<string, unknown> = {
    sink: (poison: PoisonRecord<unknown>) => {
      sunk.set(poison.itemIdentifier, poison);
    },
    failing: (poison: PoisonRecord<unknown>) => {
      sinkCalls += 1;
      if (sinkCalls % 2 === 0) throw new Error('the dead-letter queue is down');
      sunk.set(poison.itemIdentifier, poison);
    },
  };
  const options: Record<string, unknown> = {
    handle: async (item: unknown, record: { itemIdentifier: string; callOptions: never }) => {
      try {
        const outcome = await putIfNewer(table, item as Item, record.callOptions);
        handled.set(record.itemIdentifier, item);
        return outcome;
      } catch (error) {
        if (!(error instanceof RacesafeError)) crashed.set(record.itemIdentifier, describe(error));
        else if (!error.is('validation.invalidInput')) leaked.set(record.itemIdentifier, describe(error));
        throw error;
      }
    },
    observe: input.observeAsArray ? [observe] : observe,
    collapse: input.collapse.value,
    concurrency: input.concurrency.value,
  };
  if (input.sink.value !== 'none') options.onPoison = sinks[String(input.sink.value)] ?? input.sink.value;
  if (input.laneByItemKey) {
    options.key = (event: unknown) =>
      typeof event === 'object' && event !== null ? ((event as { pk?: string }).pk as string) : undefined;
  }
  // The event each record's handle received: what the oracle replays (a DynamoDB image is the body after marshall and
  // unmarshall, which may differ from the generated body, e.g. without an own `__proto__`).
  const parsed = new Map<string, unknown>();
  options.parse = (payload: unknown, raw: Record<string, never>) => {
    const id = idOf(raw);
    if (input.source !== 'dynamodb') {
      parsed.set(id, payload);
      return payload;
    }
    const image = (payload as { newImage?: Item }).newImage;
    if (image === undefined) throw new Error('no new image');
    parsed.set(id, image);
    return image;
  };
  const hostile = input.collapse.hostile || input.concurrency.hostile || input.sink.hostile;
  let handler: (event: { Records: unknown[] }) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  try {
    const build =
      input.source === 'kinesis' ? kinesisHandler : input.source === 'dynamodb' ? dynamoDBStreamHandler : sqsHandler;
    handler = build(options as never) as never;
  } catch (error) {
    if (error instanceof RacesafeError && error.is('validation.invalidOption') && hostile) {
      return [{ bucket: 'options refused' }];
    }
    return [{ bucket: 'crashed', detail: `building the handler: ${describe(error)}` }];
  }
  if (hostile) return [{ bucket: 'bad option accepted', detail: JSON.stringify(options, replacer) }];

  let failures: Set<string>;
  try {
    const response = await handler({ Records: dressed.map((record) => record.raw) });
    failures = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  } catch (error) {
    // A poison record (or anything else) took the whole batch down.
    return dressed.map(() => ({ bucket: 'crashed' as const, detail: `the batch threw: ${describe(error)}` }));
  }

  // Per key: which records were handled (written, or passed over by collapse), and whether any failed.
  const superseded = (id: string) =>
    (events.get(id) ?? []).some((event) => (event.reason ?? '').startsWith('collapsed:'));
  const byKey = new Map<string, { handled: Dressed<unknown>[]; failed: boolean }>();
  const delivered = dressed.map((record) => ({ ...record, body: parsed.get(record.id) }));
  for (const record of delivered) {
    const pk = (record.body as { pk?: unknown } | undefined)?.pk;
    if (typeof pk !== 'string') continue;
    const entry = byKey.get(pk) ?? { handled: [], failed: false };
    byKey.set(pk, entry);
    if (failures.has(record.id) || crashed.has(record.id)) entry.failed = true;
    else if (handled.has(record.id) || superseded(record.id)) entry.handled.push(record);
  }
  const keyVerdicts = new Map<string, StreamVerdict>();
  for (const [pk, entry] of byKey) {
    if (entry.failed) keyVerdicts.set(pk, { bucket: 'handled, key redelivered' });
    else if (entry.handled.length > 0) keyVerdicts.set(pk, await judgeKey(context, pk, entry.handled));
  }

  return delivered.map((record): StreamVerdict => {
    const id = record.id;
    if (crashed.has(id)) return { bucket: 'crashed', detail: crashed.get(id) as string };
    if (leaked.has(id)) return { bucket: 'leaked', detail: leaked.get(id) as string };
    if (failures.has(id)) return { bucket: 'reported failed' };
    const poison = sunk.get(id);
    if (poison !== undefined) {
      return poisonKinds.includes(poison.kind) && poison.reason.length > 0
        ? { bucket: 'poisoned with a reason' }
        : { bucket: 'lost', detail: `poisoned without a reason: ${JSON.stringify(poison.kind)}` };
    }
    if (handled.has(id) || superseded(id)) {
      const pk = (record.body as { pk?: unknown } | undefined)?.pk;
      const verdict = typeof pk === 'string' ? keyVerdicts.get(pk) : undefined;
      return verdict ?? { bucket: 'stored something else', detail: `handled without an item key: ${String(pk)}` };
    }
    return {
      bucket: 'lost',
      detail: `record ${id} (${JSON.stringify(record.body, replacer)?.slice(0, 120)}): events ${JSON.stringify(events.get(id)?.map((e) => [e.status, e.reason]))}`,
    };
  });
}

/** Whether the state table holds, for `pk`, the record DynamoDB itself keeps of the handled ones. */
async function judgeKey(
  context: StreamContext,
  pk: string,
  records: readonly Dressed<unknown>[],
): Promise<StreamVerdict> {
  const { engine, table, oracle } = context;
  // The records racesafe would write at all (a record passed over by collapse was never checked): of those, DynamoDB
  // decides which one is newest.
  const writable: Dressed<unknown>[] = [];
  for (const record of records) if (await passesChecks(context.checksOnly, record.body)) writable.push(record);
  for (const record of writable) {
    await engine.client
      .send(
        new PutCommand({
          TableName: oracle,
          Item: record.body as Item,
          ConditionExpression: 'attribute_not_exists(#pk) OR #v < :v',
          ExpressionAttributeNames: { '#pk': 'pk', '#v': 'version' },
          ExpressionAttributeValues: { ':v': (record.body as Item).version },
        }),
      )
      .catch(() => undefined);
  }
  const wanted = await readBack(engine, oracle, table, pk);
  const stored = await readBack(engine, table.name, table, pk);
  if (stored === wanted) return { bucket: 'stored equal' };
  // A tie: records of one version with different payloads (collapse keeps the last, the replay the first).
  const versionOf = (text: string | undefined) =>
    text === undefined
      ? undefined
      : JSON.stringify((JSON.parse(text) as [string, unknown][]).find(([n]) => n === 'version'));
  const types = new Set(writable.map((record) => typeof (record.body as Item).version));
  const candidates = writable.map((record) => asStored(record.body, table));
  const sameVersion = versionOf(stored) === versionOf(wanted);
  if (candidates.includes(stored) && (sameVersion || types.size > 1)) return { bucket: 'stored equal' };
  return {
    bucket: 'stored something else',
    detail: `key ${pk}: stored ${stored?.slice(0, 160)}, DynamoDB keeps ${wanted?.slice(0, 160)} of versions ${JSON.stringify(records.map((r) => (r.body as Item).version))}`,
  };
}

/** The id Lambda's batch response uses for a record of any of the three sources. */
function idOf(raw: Record<string, never>): string {
  const record = raw as {
    kinesis?: { sequenceNumber?: string };
    dynamodb?: { SequenceNumber?: string };
    messageId?: string;
  };
  return record.kinesis?.sequenceNumber ?? record.dynamodb?.SequenceNumber ?? record.messageId ?? '';
}

/** Whether racesafe's own checks let `item` through to a request (the client refuses to send anything). */
async function passesChecks(checksOnly: Table, item: unknown): Promise<boolean> {
  try {
    await putIfNewer(checksOnly, item as Item);
    return true;
  } catch (error) {
    return !(error instanceof RacesafeError && error.is('validation.invalidInput'));
  }
}

/** A client that sends nothing: every request fails at once, with an error no retry policy resends. */
function sendsNothing(engine: FuzzEngine): FuzzEngine['client'] {
  const refuse = () => {
    const error = new Error('checks only: nothing is sent');
    error.name = 'ChecksOnly';
    return Promise.reject(error);
  };
  return { config: engine.client.config, send: refuse } as unknown as FuzzEngine['client'];
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error);
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'function'
    ? 'function'
    : typeof value === 'string' && value.length > 40
      ? `${value.slice(0, 40)}…`
      : value;
}

export interface StreamFuzzReport {
  readonly seed: number;
  readonly batches: number;
  readonly records: number;
  readonly counts: Readonly<Record<StreamBucket, number>>;
  readonly bySource: Readonly<Record<string, Partial<Record<StreamBucket, number>>>>;
  readonly failures: readonly (StreamVerdict & { readonly batch: number; readonly source: string })[];
}

/** Runs `batches` generated batches with `seed` on fresh tables and counts every record's bucket. Never throws for a case. */
export async function runStreamFuzz(
  engine: FuzzEngine,
  options: { seed: number; batches: number },
): Promise<StreamFuzzReport> {
  const name = uniqueTableName('fuzz_stream');
  const oracle = uniqueTableName('fuzz_oracle');
  await createTable(engine.dynamodb, { name, partitionKey: { name: 'pk', type: 'S' } });
  await createTable(engine.dynamodb, { name: oracle, partitionKey: { name: 'pk', type: 'S' } });
  const table = defineTable({ client: engine.client, name, partitionKey: 'pk', partitionKeyType: 'S' });
  const checksOnly = defineTable({ client: sendsNothing(engine), name, partitionKey: 'pk', partitionKeyType: 'S' });
  const counts = Object.fromEntries(streamBuckets.map((bucket) => [bucket, 0])) as Record<StreamBucket, number>;
  const bySource: Record<string, Partial<Record<StreamBucket, number>>> = {};
  const failures: (StreamVerdict & { batch: number; source: string })[] = [];
  let records = 0;
  const cases = fc.sample(streamCase, { seed: options.seed, numRuns: options.batches });
  for (const [index, input] of cases.entries()) {
    const verdicts = await runStreamCase(
      { engine, table, checksOnly, oracle, prefix: `b${options.seed}-${index}` },
      input,
    ).catch((error: unknown): StreamVerdict[] => [{ bucket: 'crashed', detail: `harness: ${describe(error)}` }]);
    const row = bySource[input.source] ?? {};
    bySource[input.source] = row;
    for (const verdict of verdicts) {
      records += 1;
      counts[verdict.bucket] += 1;
      row[verdict.bucket] = (row[verdict.bucket] ?? 0) + 1;
      if (failingStream.includes(verdict.bucket) && failures.length < 20) {
        failures.push({ ...verdict, batch: index + 1, source: input.source });
      }
    }
  }
  return { seed: options.seed, batches: options.batches, records, counts, bySource, failures };
}

/** The stream report as lines for a terminal. */
export function formatStreamReport(report: StreamFuzzReport): string {
  const lines = [`stream fuzz: ${report.batches} batches, ${report.records} records, seed ${report.seed}`];
  for (const bucket of streamBuckets) lines.push(`  ${bucket.padEnd(26)} ${report.counts[bucket]}`);
  lines.push(`  by source (${streamBuckets.join(' / ')}):`);
  for (const [source, row] of Object.entries(report.bySource)) {
    lines.push(`    ${source.padEnd(10)} ${streamBuckets.map((bucket) => `${row[bucket] ?? 0}`).join(' / ')}`);
  }
  for (const failure of report.failures) {
    lines.push(`  ${failure.bucket} in batch #${failure.batch} (${failure.source}): ${failure.detail ?? ''}`);
  }
  return lines.join('\n');
}
