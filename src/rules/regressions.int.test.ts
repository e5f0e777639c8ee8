/**
 * Regression tests for issue 12, one per reproduction: every input is stored exactly (read back raw) or refused with
 * `validation.invalidInput` / `validation.invalidOption` naming the field and the rule, before any request is sent.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import { describe, expect, it } from 'vitest';
import { itWhen, useEngine } from '../../test/engine.js';
import { shardedCounter } from '../counter/sharded-counter.js';
import { RacesafeError } from '../errors.js';
import { setIfNotExists } from '../expression/update.js';
import { applyOnce } from '../stream/apply-once.js';
import { collapseByKey } from '../stream/collapse.js';
import { kinesisHandler } from '../stream/sources/kinesis.js';
import { kinesisRecord } from '../stream/stream.test-support.js';
import { defineTable, type Item, type Table } from '../table.js';
import { probeCapabilities } from '../testing/capabilities.js';
import { localClientConfig, startDynamoDB } from '../testing/dynamodb-engine.js';
import { createTable, uniqueTableName } from '../testing/tables.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from '../write/delete-if-not-newer.js';
import { getCurrent } from '../write/get-current.js';
import { guardedUpdate } from '../write/guarded-update.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { updateIfNewer } from '../write/update-if-newer.js';
import { updateWithLock } from '../write/update-with-lock.js';
import { maxAttributeNameBytes, maxItemBytes } from './limits.js';

const engine = useEngine();

/** A table handle whose client counts requests, so a test can say "refused before any request". */
async function countedTable(options: { sortKey?: string; numberKey?: boolean } = {}) {
  const name = uniqueTableName('v12');
  await createTable(engine.dynamodb, {
    name,
    partitionKey: { name: 'pk', type: options.numberKey ? 'N' : 'S' },
    ...(options.sortKey ? { sortKey: options.sortKey } : {}),
  });
  const sent: string[] = [];
  const client = {
    config: engine.client.config,
    send: (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return engine.client.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  const table = defineTable({
    client,
    name,
    partitionKey: 'pk',
    partitionKeyType: options.numberKey ? 'N' : 'S',
    ...(options.sortKey ? { sortKey: options.sortKey, sortKeyType: 'S' as const } : {}),
  });
  return { table, sent, name };
}

async function raw(table: Table, key: Item): Promise<Item | undefined> {
  const marshalled = Object.fromEntries(
    Object.entries(key).map(([name, value]) => [
      name,
      typeof value === 'number' ? { N: String(value) } : { S: String(value) },
    ]),
  );
  const result = await (engine.dynamodb as DynamoDBClient).send(
    new GetItemCommand({ TableName: table.name, Key: marshalled, ConsistentRead: true }),
  );
  return result.Item === undefined ? undefined : unmarshall(result.Item);
}

/** Expects `call` to be refused with a validation error on `field` (a prefix is enough) and nothing sent. */
async function refused(
  call: () => unknown,
  field: string | RegExp,
  sent?: readonly string[],
): Promise<RacesafeError<'validation.invalidInput'>> {
  const before = sent?.length ?? 0;
  let error: unknown;
  try {
    await call();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a refusal on ${String(field)}`).toBeInstanceOf(RacesafeError);
  const racesafe = error as RacesafeError<'validation.invalidInput'>;
  expect(['validation.invalidInput', 'validation.invalidOption']).toContain(racesafe.code);
  if (typeof field === 'string') expect(racesafe.details.field.startsWith(field), racesafe.message).toBe(true);
  else expect(racesafe.details.field).toMatch(field);
  expect(racesafe.details.rule.length).toBeGreaterThan(0);
  if (sent) expect(sent.length, `requests sent: ${sent.slice(before).join(', ')}`).toBe(before);
  return racesafe;
}

describe('issue 12: silent changes to what is stored', () => {
  it('putIfNewer refuses reserved names (_rsToken<digits>, _rsToken, _rsDeleted) and an own __proto__ key', async () => {
    const { table, sent } = await countedTable();
    for (const name of ['_rsToken7', '_rsToken123', '_rsToken', '_rsDeleted']) {
      const error = await refused(() => putIfNewer(table, { pk: 'a', version: 1, [name]: 'x' }), `item.${name}`, sent);
      expect(error.details.rule).toMatch(/reserved/);
    }
    await refused(
      () => putIfNewer(table, JSON.parse('{"pk":"a","version":1,"__proto__":{"x":1}}')),
      'item.__proto__',
      sent,
    );
    expect(await raw(table, { pk: 'a' })).toBeUndefined();
  });

  it('updateIfNewer refuses the same reserved names', async () => {
    const { table, sent } = await countedTable();
    for (const name of ['_rsToken7', '_rsToken', '_rsDeleted']) {
      await refused(() => updateIfNewer(table, { pk: 'a' }, 1, { [name]: 'x' }), `changes.${name}`, sent);
    }
  });

  it('updateWithLock refuses a mutate result that sets _rsDeleted, and the item stays readable', async () => {
    const { table } = await countedTable();
    await putIfNewer(table, { pk: 'a', version: 1, a: 0 });
    await refused(() => updateWithLock(table, { pk: 'a' }, () => ({ _rsDeleted: true, a: 1 })), 'mutate._rsDeleted');
    expect(await getCurrent(table, { pk: 'a' })).toEqual({ pk: 'a', version: 1, a: 0 });
  });

  itWhen(['returnValuesOnConditionCheckFailure'])(
    "putIfNewer with version '\\uFFFD' over a stored '\\u{1F600}' is stale in one request (UTF-8 order)",
    async () => {
      const { table, sent } = await countedTable();
      expect((await putIfNewer(table, { pk: 'a', version: '\u{1F600}' })).status).toBe('applied');
      const before = sent.length;
      expect(await putIfNewer(table, { pk: 'a', version: '\uFFFD' })).toMatchObject({ status: 'stale' });
      expect(sent.length - before).toBe(1);
      expect((await putIfNewer(table, { pk: 'a', version: '\u{1F601}' })).status).toBe('applied');
    },
  );

  it('kinesisHandler collapse keeps the version DynamoDB considers newer (UTF-8 order)', async () => {
    const { kept, superseded } = collapseByKey([
      { key: 'k', version: '\u{1F600}' },
      { key: 'k', version: '\uFFFD' },
    ]);
    expect(kept).toEqual([{ key: 'k', version: '\u{1F600}' }]);
    expect(superseded[0]?.status).toBe('stale');
    const handled: unknown[] = [];
    const handler = kinesisHandler({
      collapse: true,
      key: (event: { id: string }) => event.id,
      handle: (event) => {
        handled.push(event);
      },
    });
    await handler({
      Records: [
        kinesisRecord('k', { id: 'k', version: '\u{1F600}' }, 1),
        kinesisRecord('k', { id: 'k', version: '\uFFFD' }, 2),
      ],
    });
    expect(handled).toEqual([{ id: 'k', version: '\u{1F600}' }]);
  });

  it("deleteIfNotNewer refuses tombstoneTtl.attribute 'version' or a key, before writing", async () => {
    const { table, sent } = await countedTable({ numberKey: true });
    await putIfNewer(table, { pk: 1, version: 5, a: 1 });
    const before = sent.length;
    for (const attribute of ['version', 'pk', '_rsDeleted', '_rsToken']) {
      await refused(
        () => deleteIfNotNewer(table, { pk: 1 }, 6, { tombstoneTtl: { attribute, seconds: 60 } }),
        'deleteIfNotNewer.tombstoneTtl',
        sent,
      );
    }
    expect(sent.length).toBe(before);
    expect(await raw(table, { pk: 1 })).toMatchObject({ version: 5, a: 1 });
  });

  it("applyOnce refuses a ttlAttribute that is the marker table's key (a different event read as duplicate)", async () => {
    const { table: markers, sent } = await countedTable();
    const { table: effects } = await countedTable();
    await refused(
      () => applyOnce(markers, 'e-1', (tx) => tx.put(effects, { pk: 'x' }), { ttlAttribute: 'pk' }),
      'applyOnce.ttlAttribute',
      sent,
    );
    await refused(
      () => applyOnce(markers, 'e-1', (tx) => tx.put(effects, { pk: 'x' }), { ttlAttribute: '' }),
      'applyOnce.ttlAttribute',
    );
  });
});

describe('issue 12: refused by DynamoDB after racesafe accepted it', () => {
  const fill = (target: number, base: Item) => {
    // pad so that the item's size by DynamoDB's accounting (names + values) is exactly `target` bytes
    const used = 2 + 1 + 7 + 2 + 7; // pk:'a', version:1, payload name
    return { ...base, payload: 'x'.repeat(target - used) };
  };

  it('an item of exactly 400 KB by the user measure is refused before sending (the write token would pass it)', async () => {
    const { table, sent } = await countedTable();
    const item = fill(maxItemBytes, { pk: 'a', version: 1 });
    await refused(() => putIfNewer(table, item), 'item', sent);
    // ...and the largest item that fits with the token is stored as given.
    const fits = fill(maxItemBytes - '_rsToken'.length - 16, { pk: 'a', version: 1 });
    expect((await putIfNewer(table, fits)).status).toBe('applied');
    expect((await raw(table, { pk: 'a' }))?.payload).toBe(fits.payload);
  });

  it('a 420 KB Map is counted and refused; a small Map is stored as a map', async () => {
    const { table, sent } = await countedTable();
    const big = new Map([['blob', 'x'.repeat(420 * 1024)]]);
    await refused(() => putIfNewer(table, { pk: 'a', version: 1, m: big }), 'item', sent);
    expect((await putIfNewer(table, { pk: 'a', version: 1, m: new Map([['k', 1]]) })).status).toBe('applied');
    expect((await raw(table, { pk: 'a' }))?.m).toEqual({ k: 1 });
  });

  it('refuses NaN in a Map, imprecise and out-of-range numbers, Dates and undefined in lists', async () => {
    const { table, sent } = await countedTable();
    const cases: [unknown, string][] = [
      [new Map([['n', Number.NaN]]), 'item.v.n'],
      [2 ** 53 + 2, 'item.v'],
      [10n ** 38n + 1n, 'item.v'],
      [1e-200, 'item.v'],
      [new Date(0), 'item.v'],
      [[1, undefined, 2], 'item.v[1]'],
    ];
    for (const [value, field] of cases)
      await refused(() => putIfNewer(table, { pk: 'a', version: 1, v: value }), field, sent);
    await refused(() => updateIfNewer(table, { pk: 'a' }, 1, { v: setIfNotExists(undefined) }), 'changes.v', sent);
    // 38 digits is fine and is stored exactly.
    expect((await putIfNewer(table, { pk: 'a', version: 1, v: 10n ** 37n + 1n })).status).toBe('applied');
  });

  it("refuses attribute names '', over the size limit, or with a lone surrogate", async () => {
    const { table, sent } = await countedTable();
    for (const name of ['', 'n'.repeat(70_000), 'a\uD800']) {
      await refused(() => putIfNewer(table, { pk: 'a', version: 1, [name]: 1 }), /^item\./, sent);
      await refused(() => updateIfNewer(table, { pk: 'a' }, 1, { [name]: 1 }), /^changes\./, sent);
    }
  });

  it('attribute names: the largest DynamoDB Local stores and reads back (50,000 bytes) is stored, 50,001 refused', async () => {
    const { table, sent } = await countedTable();
    expect(maxAttributeNameBytes).toBe(50_000);
    // ASCII and 4-byte characters: the limit is on UTF-8 bytes, not on characters or UTF-16 code units.
    const largest = ['n'.repeat(50_000), '\u{1F600}'.repeat(12_500)];
    const over = ['n'.repeat(50_001), '\u00e9'.repeat(25_000) + 'n', '\u{1F600}'.repeat(12_500) + 'n'];
    for (const [index, name] of largest.entries()) {
      const pk = `largest-${index}`;
      expect((await putIfNewer(table, { pk, version: 1, [name]: 1 })).status).toBe('applied');
      expect((await raw(table, { pk }))?.[name]).toBe(1);
      // In an update through a placeholder, and in a guard's condition on the stored attribute.
      expect((await updateIfNewer(table, { pk }, 2, { [name]: 2 })).status).toBe('applied');
      expect((await raw(table, { pk }))?.[name]).toBe(2);
      // guardedUpdate sends a one-action transaction, which dynalite lacks.
      if (!engine.capabilities.transactions) continue;
      const guarded = await guardedUpdate(table, { pk }, { changes: { [name]: 3 }, require: { [name]: { eq: 2 } } });
      expect(guarded.status).toBe('applied');
      expect((await raw(table, { pk }))?.[name]).toBe(3);
    }
    const before = sent.length;
    for (const name of over) {
      expect(Buffer.byteLength(name)).toBeGreaterThan(maxAttributeNameBytes);
      await refused(() => putIfNewer(table, { pk: 'over', version: 1, [name]: 1 }), 'item.', sent);
      await refused(() => putIfNewer(table, { pk: 'over', version: 1, m: { [name]: 1 } }), 'item.m', sent);
      await refused(() => updateIfNewer(table, { pk: 'over' }, 1, { [name]: 1 }), 'changes.', sent);
      await refused(
        () => guardedUpdate(table, { pk: 'largest-0' }, { changes: { a: 1 }, require: { [name]: { eq: 2 } } }),
        /^require/,
        sent,
      );
    }
    expect(sent.length).toBe(before);
  });

  it('refuses keys of the wrong type, a partition key over 2048 bytes, a sort key over 1024, empty binary', async () => {
    const { table, sent } = await countedTable({ sortKey: 'sk' });
    await refused(() => putIfNewer(table, { pk: 1, sk: 'a', version: 1 }), 'item.pk', sent);
    await refused(() => putIfNewer(table, { pk: 'p'.repeat(2049), sk: 'a', version: 1 }), 'item.pk', sent);
    await refused(() => putIfNewer(table, { pk: 'p', sk: 's'.repeat(1025), version: 1 }), 'item.sk', sent);
    await refused(() => getCurrent(table, { pk: new Uint8Array(0), sk: 'a' }), 'key.pk', sent);
    expect((await putIfNewer(table, { pk: 'p'.repeat(2048), sk: 's'.repeat(1024), version: 1 })).status).toBe(
      'applied',
    );
  });

  it('refuses empty, mixed, object and duplicate sets, nesting past 32 levels, 250 changes, { lt: null }', async () => {
    const { table, sent } = await countedTable();
    const nested = (n: number): unknown => (n === 0 ? 1 : { a: nested(n - 1) });
    for (const value of [
      new Set(),
      new Set(['a', 1]),
      new Set([{}]),
      new Set([Buffer.from('a'), new Uint8Array([97])]),
      nested(32),
    ]) {
      await refused(() => putIfNewer(table, { pk: 'a', version: 1, v: value }), 'item.v', sent);
    }
    // 250 changes make a 3.5 KB expression with today's placeholders (stored, read back below); 300 pass 4 KB.
    const changes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`attribute${i}`, i]));
    await refused(() => updateIfNewer(table, { pk: 'a' }, 1, changes(300)), 'changes', sent);
    await refused(
      () => guardedUpdate(table, { pk: 'a' }, { changes: { q: 1 }, require: { q: { lt: null as never } } }),
      'require.q.lt',
      sent,
    );
    expect((await putIfNewer(table, { pk: 'a', version: 1, v: nested(31) })).status).toBe('applied');
    expect((await updateIfNewer(table, { pk: 'a' }, 2, changes(250))).status).toBe('applied');
    expect(await raw(table, { pk: 'a' })).toMatchObject(changes(250));
  });

  it('refuses a transaction with two actions on one item whose keys are a Uint8Array and a Buffer of the same bytes', async () => {
    const name = uniqueTableName('v12bin');
    await createTable(engine.dynamodb, { name, partitionKey: { name: 'pk', type: 'B' } });
    const table = defineTable({ client: engine.client, name, partitionKey: 'pk', partitionKeyType: 'B' });
    await refused(
      () =>
        transaction()
          .put(table, { pk: new Uint8Array([1, 2]), a: 1 })
          .delete(table, { pk: Buffer.from([1, 2]) })
          .commit(),
      'actions[1]',
    );
  });
});

describe('issue 12: an update that grows a stored item past 400 KB', () => {
  // racesafe cannot know the stored item's other attributes before sending an update (its size check is a lower
  // bound), so DynamoDB has the last word: the caller still gets a RacesafeError with the service's refusal as cause.
  itWhen(['transactions'])(
    'is refused by DynamoDB and reported as a typed error, never a raw SDK error; the stored item is unchanged',
    async () => {
      const { table } = await countedTable();
      await putIfNewer(table, { pk: 'a', version: 1, big: 'x'.repeat(300_000) });
      const before = await raw(table, { pk: 'a' });
      const more = { more: 'y'.repeat(200_000) };
      const typed = async (call: () => Promise<unknown>): Promise<RacesafeError> => {
        const error = await call().then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(RacesafeError);
        return error as RacesafeError;
      };
      const update = await typed(() => updateIfNewer(table, { pk: 'a' }, 2, more));
      expect(update.code).toBe('service.failure');
      expect((update.cause as Error).name).toBe('ValidationException');
      expect(update.message).toMatch(/Item size to update has exceeded/);
      const guarded = await typed(() => guardedUpdate(table, { pk: 'a' }, { changes: more }));
      expect(guarded.code).toBe('service.failure');
      const cancelled = await typed(() => transaction().update(table, { pk: 'a' }, { changes: more }).commit());
      expect(cancelled.code).toBe('transaction.cancelled');
      expect((cancelled as RacesafeError<'transaction.cancelled'>).details.reasons[0]?.code).toBe('ValidationError');
      // updateWithLock reads the item first, so it knows the whole size and refuses before writing.
      const locked = await typed(() => updateWithLock(table, { pk: 'a' }, (item) => ({ ...item, ...more })));
      expect(locked.code).toBe('validation.invalidInput');
      expect(await raw(table, { pk: 'a' })).toEqual(before);
    },
  );
});

describe('issue 12: crashes become typed errors', () => {
  it('transaction().check(t, key, null), and a guard operand whose toString is not a function', async () => {
    const { table, sent } = await countedTable();
    await refused(() => transaction().check(table, { pk: 'a' }, null as never), 'actions[0].require', sent);
    const hostile = { toString: 5 };
    await refused(
      () => guardedUpdate(table, { pk: 'a' }, { changes: { q: 1 }, require: { q: { beginsWith: hostile as never } } }),
      'require.q',
      sent,
    );
  });

  itWhen(['transactions'])(
    'a guard operand whose toString is not a function is a valid eq map: an outcome',
    async () => {
      const { table } = await countedTable();
      // As an `eq` operand the object is a map DynamoDB can compare with: an outcome, no crash.
      await putIfNewer(table, { pk: 'a', version: 1, q: 0 });
      expect(
        await guardedUpdate(table, { pk: 'a' }, { changes: { q: 1 }, require: { q: { eq: { toString: 5 } } } }),
      ).toMatchObject({ status: 'rejected', reason: 'q = {"toString":5}' });
    },
  );

  it('observe: 5 on defineTable and on a stream handler', () => {
    expect(() => defineTable({ client: engine.client, name: 't', partitionKey: 'pk', observe: 5 as never })).toThrow(
      expect.objectContaining({
        code: 'validation.invalidOption',
        details: expect.objectContaining({ field: 'defineTable.observe' }),
      }),
    );
    expect(() => kinesisHandler({ handle: () => undefined, observe: 5 as never })).toThrow(
      expect.objectContaining({ code: 'validation.invalidOption' }),
    );
  });

  it('shardedCounter with random: 5, applyOnce with now: 5, startDynamoDB with port: -1', async () => {
    const { table, sent } = await countedTable();
    await refused(() => shardedCounter(table, { pk: 'c' }, { random: 5 as never }), 'shardedCounter.random', sent);
    await refused(
      () => applyOnce(table, 'e', (tx) => tx.put(table, { pk: 'x' }), { now: 5 as never }),
      'applyOnce.now',
      sent,
    );
    await refused(() => startDynamoDB({ port: -1 }), 'startDynamoDB.port');
  });
});

describe('issue 12: options are validated', () => {
  it('retry values (NaN, Infinity, 0, -1), updateWithLock backoff and random, commit backoff', async () => {
    const { table, sent } = await countedTable();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1]) {
      await refused(
        () => putIfNewer(table, { pk: 'a', version: 1 }, { retry: { maxAttempts: bad } }),
        'retry.maxAttempts',
        sent,
      );
      await refused(
        () => putIfNewer(table, { pk: 'a', version: 1 }, { retry: { baseMs: bad === 0 ? -1 : bad } }),
        'retry.baseMs',
        sent,
      );
    }
    await refused(
      () => updateWithLock(table, { pk: 'a' }, () => ({}), { backoff: { capMs: -1 } }),
      'updateWithLock.backoff',
      sent,
    );
    await refused(
      () => updateWithLock(table, { pk: 'a' }, () => ({}), { random: 5 as never }),
      'updateWithLock.random',
      sent,
    );
    await refused(
      () =>
        transaction()
          .put(table, { pk: 'a' })
          .commit({ backoff: { baseMs: Number.NaN } }),
      'commit.backoff',
      sent,
    );
  });

  it("consistent: 'yes', ttlAttribute: '', the types of observe and context", async () => {
    const { table, sent } = await countedTable();
    await refused(() => getCurrent(table, { pk: 'a' }, { consistent: 'yes' as never }), 'getCurrent.consistent', sent);
    await refused(
      () => putIfNewer(table, { pk: 'a', version: 1 }, { observe: 'log' as never }),
      'putIfNewer.observe',
      sent,
    );
    await refused(
      () => putIfNewer(table, { pk: 'a', version: 1 }, { context: 5 as never }),
      'putIfNewer.context',
      sent,
    );
  });

  it('overlapping defineTable roles fail at defineTable, not at the first update', () => {
    const base = { client: engine.client, name: 't', partitionKey: 'pk' };
    for (const overlap of [
      { versionAttribute: 'pk' },
      { sortKey: 'pk' },
      { tombstoneAttribute: 'version' },
      { writeTokenAttribute: 'version' },
      { versionAttribute: '_rsToken3' },
      { tombstoneAttribute: '_rsToken' },
    ]) {
      expect(() => defineTable({ ...base, ...overlap }), JSON.stringify(overlap)).toThrow(
        expect.objectContaining({ code: 'validation.invalidOption' }),
      );
    }
  });

  it('unknown option names on startDynamoDB and createTable', async () => {
    await refused(() => startDynamoDB({ engin: 'dynalite' } as never), 'startDynamoDB.engin');
    await refused(
      () => createTable(engine.dynamodb, { name: 'abc', partitionKey: 'pk', ttl: 'x' } as never),
      'createTable.ttl',
    );
    await refused(
      () => createTable(engine.dynamodb, { name: 'abc', partitionKey: 'pk', ttlAttribute: 'pk' }),
      'createTable.ttlAttribute',
    );
  });
});

describe('issue 12: engine start', () => {
  it('probes a dynalite whose tables stay CREATING for a while (the start race, made certain)', async () => {
    const server = dynalite({ createTableMs: 300, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const { DynamoDBClient: Client } = await import('@aws-sdk/client-dynamodb');
    const dynamodb = new Client({ ...localClientConfig, endpoint: `http://127.0.0.1:${port}` });
    try {
      expect((await probeCapabilities(dynamodb)).transactions).toBe(false);
    } finally {
      dynamodb.destroy();
      server.close();
    }
  });

  it("startDynamoDB({ engine: 'dynalite' }) starts 30 times, ten at a time", async () => {
    for (let round = 0; round < 3; round++) {
      const engines = await Promise.all(Array.from({ length: 10 }, () => startDynamoDB({ engine: 'dynalite' })));
      await Promise.all(engines.map((started) => started.stop()));
    }
  }, 60_000);
});
