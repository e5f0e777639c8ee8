import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import type { OutcomeEvent } from '../observe/events.js';
import type { Item, Table } from '../table.js';
import { readCommitLog, versionRegressions } from '../testing/commit-log.js';
import { seededRandom, shuffled } from '../testing/random.js';
import { putIfNewer } from '../write/put-if-newer.js';
import type { PoisonRecord } from './poison.js';
import { kinesisHandler } from './sources/kinesis.js';
import { sqsHandler } from './sources/sqs.js';
import { failedIds, kinesisRecord, sequenceNumber, sqsRecord } from './stream.test-support.js';

const engine = useEngine();

interface Reading extends Item {
  readonly pk: string;
  readonly version: number;
  readonly temperature: number;
}

const parseReading = (payload: unknown): Reading => {
  const reading = payload as Reading;
  if (typeof reading.pk !== 'string') throw new Error('pk is required');
  return reading;
};

/** Counts the statuses of the state table's writes. */
function counter() {
  const counts: Record<string, number> = {};
  const observe = (event: OutcomeEvent) => {
    if (event.op === 'putIfNewer') counts[event.status] = (counts[event.status] ?? 0) + 1;
  };
  return { counts, observe };
}

async function stored(table: Table, pk: string): Promise<Item | undefined> {
  const result = await engine.client.send(new GetCommand({ TableName: table.name, Key: { pk }, ConsistentRead: true }));
  return result.Item;
}

/** Readings of `keys` keys, versions 1..`versions` each, in a seeded random order (each key's versions out of order). */
function shuffledReadings(keys: number, versions: number, seed: number): KinesisStreamRecord[] {
  const random = seededRandom(seed);
  const events: Reading[] = [];
  for (let k = 0; k < keys; k++) {
    for (let v = 1; v <= versions; v++) events.push({ pk: `device-${k}`, version: v, temperature: v * 10 + k });
  }
  return shuffled(random, events).map((event, index) => kinesisRecord(event.pk, event, index + 1));
}

describe('kinesisHandler writing with putIfNewer', () => {
  it('keeps the highest version of each key, whatever the order within a batch', async () => {
    const { counts, observe } = counter();
    const { table } = await freshTable(engine, { prefix: 'stream_state', observe });
    const handler = kinesisHandler({
      parse: parseReading,
      handle: (reading, record) => putIfNewer(table, reading, record.callOptions),
    });
    const batch = { Records: shuffledReadings(8, 6, 7) };
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    for (let k = 0; k < 8; k++) expect((await stored(table, `device-${k}`))?.version).toBe(6);
    // Each key's lane runs in delivery order, so exactly the versions newer than every earlier one of their key apply.
    const highest = new Map<string, number>();
    let newer = 0;
    for (const record of batch.Records) {
      const { pk, version } = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString()) as Reading;
      if (version > (highest.get(pk) ?? 0)) {
        newer += 1;
        highest.set(pk, version);
      }
    }
    expect(newer).toBeLessThan(48);
    expect(counts).toEqual({ applied: newer, stale: 48 - newer });
  });

  it('with collapse: one write per key, the other records counted stale without a request', async () => {
    const { counts, observe } = counter();
    const { table } = await freshTable(engine, { prefix: 'stream_collapse', observe });
    const records: string[] = [];
    const handler = kinesisHandler({
      parse: parseReading,
      collapse: true,
      observe: (event) => records.push(event.status),
      handle: (reading, record) => putIfNewer(table, reading, record.callOptions),
    });
    expect(await handler({ Records: shuffledReadings(8, 6, 11) })).toEqual({ batchItemFailures: [] });
    expect(counts).toEqual({ applied: 8 });
    expect(records.filter((status) => status === 'stale')).toHaveLength(40);
    for (let k = 0; k < 8; k++) expect((await stored(table, `device-${k}`))?.version).toBe(6);
  });

  itWhen(['streams'])(
    'a failed lane, replayed from the lowest failed sequence number as Lambda does, ends correct with no duplicate write',
    async () => {
      const { counts, observe } = counter();
      const { table, streamArn } = await freshTable(engine, { prefix: 'stream_replay', observe });
      let failOnce = true;
      const handler = kinesisHandler({
        parse: parseReading,
        handle: (reading, record) => {
          if (reading.pk === 'b' && reading.version === 2 && failOnce) {
            failOnce = false;
            throw new Error('throttled beyond the SDK retries');
          }
          return putIfNewer(table, reading, record.callOptions);
        },
      });
      const events: Reading[] = [
        { pk: 'a', version: 1, temperature: 1 },
        { pk: 'b', version: 1, temperature: 1 },
        { pk: 'b', version: 2, temperature: 2 },
        { pk: 'a', version: 2, temperature: 2 },
        { pk: 'b', version: 3, temperature: 3 },
        { pk: 'c', version: 1, temperature: 1 },
        { pk: 'a', version: 3, temperature: 3 },
      ];
      const records = events.map((event, index) => kinesisRecord(event.pk, event, index + 1));
      const first = await handler({ Records: records });
      expect(failedIds(first)).toEqual([sequenceNumber(3), sequenceNumber(5)]);
      expect((await stored(table, 'a'))?.version).toBe(3);
      expect((await stored(table, 'b'))?.version).toBe(1);

      // Lambda checkpoints at the lowest reported sequence number and delivers everything after it again,
      // including a2, c1 and a3, which were already written.
      const lowest = records.findIndex((record) => record.kinesis.sequenceNumber === failedIds(first)[0]);
      const second = await handler({ Records: records.slice(lowest) });
      expect(second).toEqual({ batchItemFailures: [] });
      expect(
        Object.fromEntries(
          await Promise.all(['a', 'b', 'c'].map(async (pk) => [pk, (await stored(table, pk))?.version])),
        ),
      ).toEqual({
        a: 3,
        b: 3,
        c: 1,
      });
      // a1 b1 a2 c1 a3, then b2 b3 applied; the replays wrote nothing: a2 is stale (3 is stored), c1 and a3 duplicates.
      expect(counts).toEqual({ applied: 7, stale: 1, duplicate: 2 });
      const log = await readCommitLog(engine.streams, streamArn ?? '');
      expect(log).toHaveLength(7);
      expect(versionRegressions(log)).toEqual([]);
    },
  );

  it('treats an oversized value as poison: putIfNewer refuses it before sending, the sink gets it, nothing is written', async () => {
    const { table } = await freshTable(engine, { prefix: 'stream_oversized' });
    const poisoned: PoisonRecord<KinesisStreamRecord>[] = [];
    const handler = kinesisHandler({
      parse: parseReading,
      onPoison: (poison) => void poisoned.push(poison),
      handle: (reading, record) => putIfNewer(table, reading, record.callOptions),
    });
    const huge = { pk: 'big', version: 1, temperature: 1, notes: 'x'.repeat(410 * 1024) };
    const response = await handler({
      Records: [kinesisRecord('big', huge, 1), kinesisRecord('small', { pk: 'small', version: 1, temperature: 1 }, 2)],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(poisoned.map((poison) => poison.kind)).toEqual(['invalidInput']);
    expect(poisoned[0]?.reason).toMatch(/400 KB/);
    expect(await stored(table, 'big')).toBeUndefined();
    expect((await stored(table, 'small'))?.version).toBe(1);
  });

  it('logs a skipped stale write with the event id, version and fields through the table observer', async () => {
    const skipped: OutcomeEvent[] = [];
    const { table } = await freshTable(engine, {
      prefix: 'stream_log',
      observe: (event) => {
        if (event.status === 'stale') skipped.push(event);
      },
    });
    const handler = kinesisHandler({
      parse: parseReading,
      handle: (reading, record) => putIfNewer(table, reading, record.callOptions),
    });
    await handler({ Records: [kinesisRecord('a', { pk: 'a', version: 42, temperature: 20 }, 1)] });
    await handler({ Records: [kinesisRecord('a', { pk: 'a', version: 41, temperature: 19 }, 2)] });
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({
      op: 'putIfNewer',
      key: { pk: 'a' },
      context: {
        eventId: `shardId-000000000000:${sequenceNumber(2)}`,
        version: 41,
        fields: { pk: 'a', version: 41, temperature: 19 },
      },
    });
    expect(skipped[0]?.reason).toMatch(/42 is newer than 41/);
  });
});

describe('sqsHandler writing with putIfNewer', () => {
  it('FIFO: a failure fails the rest of its group only; the redelivered group then lands in order', async () => {
    const { table } = await freshTable(engine, { prefix: 'sqs_fifo' });
    let failOnce = true;
    const handler = sqsHandler({
      parse: parseReading,
      handle: (reading, record) => {
        if (reading.pk === 'a' && reading.version === 2 && failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        return putIfNewer(table, reading, record.callOptions);
      },
    });
    const batch = [
      sqsRecord('1', { pk: 'a', version: 1, temperature: 1 }, 'a'),
      sqsRecord('2', { pk: 'a', version: 2, temperature: 2 }, 'a'),
      sqsRecord('3', { pk: 'b', version: 1, temperature: 1 }, 'b'),
      sqsRecord('4', { pk: 'a', version: 3, temperature: 3 }, 'a'),
    ];
    const first = await handler({ Records: batch });
    expect(failedIds(first)).toEqual(['2', '4']);
    expect((await stored(table, 'a'))?.version).toBe(1);
    expect((await stored(table, 'b'))?.version).toBe(1);
    const failed = new Set(failedIds(first));
    expect(await handler({ Records: batch.filter((record) => failed.has(record.messageId)) })).toEqual({
      batchItemFailures: [],
    });
    expect((await stored(table, 'a'))?.version).toBe(3);
  });
});
