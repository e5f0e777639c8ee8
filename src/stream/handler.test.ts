import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { invalidInput, RacesafeError } from '../errors.js';
import type { OutcomeEvent } from '../observe/events.js';
import { powertoolsLogger } from '../observe/powertools.js';
import type { PoisonRecord } from './poison.js';
import { type DynamoDBChange, dynamoDBStreamHandler } from './sources/dynamodb-streams.js';
import { kinesisHandler } from './sources/kinesis.js';
import { sqsHandler } from './sources/sqs.js';
import {
  dynamoDBRecord,
  failedIds,
  kinesisRecord,
  kinesisRecordWithData,
  sequenceNumber,
  sqsRecord,
} from './stream.test-support.js';

const Reading = z.object({ key: z.string(), version: z.number().int().positive() });
type Reading = z.infer<typeof Reading>;

/** A batch of readings on one shard: `[key, version]` in delivery order, numbered from 1. */
function readings(...items: [string, number][]): { Records: KinesisStreamRecord[] } {
  return { Records: items.map(([key, version], index) => kinesisRecord(key, { key, version }, index + 1)) };
}

describe('kinesisHandler', () => {
  it('handles every record, each key in order, and reports no failures', async () => {
    const seen: string[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      handle: async (reading) => {
        seen.push(`${reading.key}${reading.version}`);
      },
    });
    const response = await handler(readings(['a', 1], ['b', 1], ['a', 2], ['b', 2], ['a', 3]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen.filter((entry) => entry.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(seen.filter((entry) => entry.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it("fails only the failing key's lane: its record and the key's later records; other keys finish", async () => {
    const handled: string[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      handle: async (reading: Reading) => {
        if (reading.key === 'b' && reading.version === 2) throw new Error('DynamoDB unavailable');
        handled.push(`${reading.key}${reading.version}`);
      },
    });
    // Sequence numbers 1..7 in this order.
    const response = await handler(readings(['a', 1], ['b', 1], ['b', 2], ['a', 2], ['b', 3], ['c', 1], ['a', 3]));
    expect(failedIds(response)).toEqual([sequenceNumber(3), sequenceNumber(5)]);
    expect(handled.sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
  });

  it('uses the partition key as the lane key by default, and the `key` option when given', async () => {
    const keys: string[] = [];
    const byPartition = kinesisHandler({ handle: (_event, record) => void keys.push(record.key) });
    await byPartition({ Records: [kinesisRecord('pk-1', { key: 'x', version: 1 }, 1)] });
    const byField = kinesisHandler({
      parse: Reading,
      key: (reading) => reading.key,
      handle: (_e, r) => void keys.push(r.key),
    });
    await byField({ Records: [kinesisRecord('pk-1', { key: 'x', version: 1 }, 1)] });
    expect(keys).toEqual(['pk-1', 'x']);
  });

  it('reports every outcome to observe, with the event id, version and fields in the context', async () => {
    const events: OutcomeEvent[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      observe: (event) => events.push(event),
      handle: (reading) =>
        reading.version === 1
          ? { status: 'stale', current: { key: 'a', version: 2 } }
          : { status: 'applied', item: reading },
    });
    await handler(readings(['a', 1], ['a', 2]));
    expect(events.map((event) => [event.op, event.status])).toEqual([
      ['kinesisHandler', 'stale'],
      ['kinesisHandler', 'applied'],
    ]);
    expect(events[0]).toMatchObject({
      table: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
      key: { key: 'a' },
      context: {
        eventId: `shardId-000000000000:${sequenceNumber(1)}`,
        itemIdentifier: sequenceNumber(1),
        key: 'a',
        version: 1,
        fields: { key: 'a', version: 1 },
      },
    });
  });

  it('with powertoolsLogger, logs a skipped stale write with the event id, version and fields (the StateLambda log)', async () => {
    const lines: { level: string; message: string; extra: object[] }[] = [];
    const log =
      (level: string) =>
      (message: string, ...extra: object[]) =>
        void lines.push({ level, message, extra });
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const handler = kinesisHandler({
      parse: Reading,
      observe: powertoolsLogger(logger),
      handle: () => ({
        status: 'stale',
        current: { key: 'a', version: 42 },
        reason: 'stored version 42 is newer than 41',
      }),
    });
    await handler({ Records: [kinesisRecord('a', { key: 'a', version: 41 }, 1)] });
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'racesafe kinesisHandler stale',
        extra: [
          {
            racesafe: expect.objectContaining({
              status: 'stale',
              reason: 'stored version 42 is newer than 41',
              context: expect.objectContaining({
                eventId: `shardId-000000000000:${sequenceNumber(1)}`,
                version: 41,
                fields: { key: 'a', version: 41 },
              }),
            }),
          },
        ],
      },
    ]);
  });

  it('passes callOptions whose context carries the record, for the write primitives', async () => {
    let context: unknown;
    const handler = kinesisHandler({
      parse: Reading,
      key: (r) => r.key,
      handle: (_r, record) => (context = record.callOptions.context),
    });
    await handler(readings(['a', 7]));
    expect(context).toEqual({
      eventId: `shardId-000000000000:${sequenceNumber(1)}`,
      itemIdentifier: sequenceNumber(1),
      key: 'a',
      version: 7,
      fields: { key: 'a', version: 7 },
    });
  });

  it('refuses a record without a sequence number (it could not be reported): the whole batch fails', async () => {
    const record = kinesisRecord('a', { key: 'a', version: 1 }, 1);
    const broken = { ...record, kinesis: { ...record.kinesis, sequenceNumber: '' } };
    const handler = kinesisHandler({ handle: () => undefined });
    await expect(handler({ Records: [broken] })).rejects.toMatchObject({ code: 'validation.invalidInput' });
  });
});

describe('poison records', () => {
  const poisonBatch = () => ({
    Records: [
      kinesisRecordWithData('a', 'not base64!!', 1),
      kinesisRecordWithData('b', Buffer.from('{"key":').toString('base64'), 2),
      kinesisRecord('c', { version: 1 }, 3),
      kinesisRecord('d', { key: 'd', version: 1.5 }, 4),
      kinesisRecord('e', { key: 'e', version: 1 }, 5),
    ],
  });

  it('go to onPoison with the raw record and the reason, then count as handled', async () => {
    const poisoned: PoisonRecord<KinesisStreamRecord>[] = [];
    const handled: string[] = [];
    const handler = kinesisHandler({
      parse: (payload) => payload as { key?: string; version?: unknown },
      key: (event) => event.key,
      onPoison: (poison) => void poisoned.push(poison),
      handle: (event) => void handled.push(String(event.key)),
    });
    const batch = poisonBatch();
    const response = await handler(batch);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handled).toEqual(['e']);
    expect(poisoned.map((poison) => [poison.itemIdentifier, poison.kind])).toEqual([
      [sequenceNumber(1), 'undecodable'],
      [sequenceNumber(2), 'undecodable'],
      [sequenceNumber(3), 'missingKey'],
      [sequenceNumber(4), 'invalidVersion'],
    ]);
    expect(poisoned[0]).toMatchObject({
      reason: 'undecodable: data is not valid base64',
      handler: 'kinesisHandler',
      origin: 'arn:aws:kinesis:us-east-1:000000000000:stream/events',
      eventId: `shardId-000000000000:${sequenceNumber(1)}`,
      raw: batch.Records[0],
    });
    expect(poisoned[1]?.reason).toMatch(/^invalid JSON/);
    expect(poisoned[3]?.reason).toMatch(/1\.5 is not a positive safe integer/);
  });

  it('that a schema refuses are poison of kind invalid, with the issues as the reason', async () => {
    const poisoned: PoisonRecord<KinesisStreamRecord>[] = [];
    const handler = kinesisHandler({ parse: Reading, onPoison: (p) => void poisoned.push(p), handle: () => undefined });
    await handler({ Records: [kinesisRecord('c', { version: 1 }, 1)] });
    expect(poisoned.map((poison) => poison.kind)).toEqual(['invalid']);
    expect(poisoned[0]?.reason).toMatch(/^invalid: key: /);
  });

  it('become poison when handle throws a racesafe validation error, raised before any request', async () => {
    const poisoned: PoisonRecord<KinesisStreamRecord>[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      onPoison: (p) => void poisoned.push(p),
      handle: () => {
        throw new RacesafeError('validation.invalidInput', 'item: too large', { field: 'item', rule: 'too large' });
      },
    });
    expect(await handler(readings(['a', 1]))).toEqual({ batchItemFailures: [] });
    expect(poisoned.map((poison) => [poison.kind, poison.reason])).toEqual([['invalidInput', 'item: too large']]);
  });

  it('are reported failed, with the rest of their lane, when there is no sink: never dropped silently', async () => {
    const events: OutcomeEvent[] = [];
    const handler = kinesisHandler({ parse: Reading, observe: (e) => events.push(e), handle: () => undefined });
    const response = await handler({
      Records: [
        kinesisRecordWithData('a', '@@@', 1),
        kinesisRecord('a', { key: 'a', version: 2 }, 2),
        kinesisRecord('b', { key: 'b', version: 1 }, 3),
      ],
    });
    expect(failedIds(response)).toEqual([sequenceNumber(1), sequenceNumber(2)]);
    expect(events.map((event) => [event.status, event.reason])).toEqual([
      ['rejected', 'poison, reported failed (no onPoison sink): undecodable: data is not valid base64'],
      ['applied', undefined],
    ]);
  });

  it('are reported failed when the sink fails', async () => {
    const handler = kinesisHandler({
      parse: Reading,
      onPoison: async () => {
        throw new Error('dead-letter queue unavailable');
      },
      handle: () => undefined,
    });
    const response = await handler({
      Records: [kinesisRecordWithData('a', '@@@', 1), kinesisRecord('b', { key: 'b', version: 1 }, 2)],
    });
    expect(failedIds(response)).toEqual([sequenceNumber(1)]);
  });
});

describe('collapse', () => {
  it('handles only the highest version of each key; the others are stale (or duplicate) outcomes', async () => {
    const handled: string[] = [];
    const events: OutcomeEvent[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      collapse: true,
      observe: (event) => events.push(event),
      handle: (reading) => void handled.push(`${reading.key}${reading.version}`),
    });
    const response = await handler(readings(['a', 1], ['b', 4], ['a', 3], ['a', 2], ['b', 4]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handled.sort()).toEqual(['a3', 'b4']);
    const summary = events.map((event) => `${String(event.context?.itemIdentifier).slice(-1)} ${event.status}`).sort();
    expect(summary).toEqual(['1 stale', '2 duplicate', '3 applied', '4 stale', '5 applied']);
    expect(events.find((event) => event.status === 'duplicate')?.reason).toBe(
      'collapsed: version 4 of this key is in the same batch',
    );
  });

  it('when the highest version is poison (its write refused before sending), handles the next highest instead', async () => {
    // Found by the stream fuzz suite: the older versions were reported stale, superseded by a version never stored.
    const attempted: string[] = [];
    const poisoned: string[] = [];
    const events: OutcomeEvent[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      collapse: true,
      observe: (event) => events.push(event),
      onPoison: (poison) => void poisoned.push(poison.itemIdentifier.slice(-1)),
      handle: (reading) => {
        attempted.push(`${reading.key}${reading.version}`);
        if (reading.version >= 3) throw invalidInput('item.big', 'the item would be over 400 KB');
      },
    });
    const response = await handler(readings(['a', 1], ['a', 4], ['a', 2], ['a', 3], ['b', 5], ['b', 1]));
    expect(response).toEqual({ batchItemFailures: [] });
    // Each key's lane in order (lanes run at once): the highest first, then the next highest while they are poison.
    expect(attempted.filter((name) => name.startsWith('a'))).toEqual(['a4', 'a3', 'a2']);
    expect(attempted.filter((name) => name.startsWith('b'))).toEqual(['b5', 'b1']);
    expect(poisoned.sort()).toEqual(['2', '4', '5']);
    const stale = events.filter((event) => event.status === 'stale').map((event) => event.reason);
    expect(stale).toEqual(['collapsed: version 2 of this key is in the same batch']);
  });

  it("with many keys interleaved, each poison winner falls back to its own key's next highest version", async () => {
    // Found by the stream fuzz suite: ordering fallbacks only within a key is not a total order, and sort misplaced them.
    const attempted: string[] = [];
    const handler = kinesisHandler({
      parse: Reading,
      collapse: true,
      concurrency: 2,
      onPoison: () => undefined,
      handle: (reading) => {
        attempted.push(`${reading.key}${reading.version}`);
        if (reading.version === 6) throw invalidInput('item.big', 'the item would be over 400 KB');
      },
    });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const records: [string, number][] = [];
    for (const version of [2, 5, 1, 4, 3, 6]) for (const key of keys) records.push([key, version]);
    expect(await handler(readings(...records))).toEqual({ batchItemFailures: [] });
    for (const key of keys) expect(attempted.filter((name) => name.startsWith(key))).toEqual([`${key}6`, `${key}5`]);
  });

  it('when the highest version fails, its fallbacks are reported failed with it (redelivered, not skipped)', async () => {
    const handler = kinesisHandler({
      parse: Reading,
      collapse: true,
      handle: (reading) => {
        if (reading.version === 2) throw new Error('throttled');
      },
    });
    const response = await handler(readings(['a', 1], ['a', 2]));
    expect(failedIds(response).sort()).toEqual([sequenceNumber(1), sequenceNumber(2)].sort());
  });

  it('makes a record without a version poison, since it cannot be ordered', async () => {
    const poisoned: string[] = [];
    const handler = kinesisHandler({
      collapse: true,
      onPoison: (poison) => void poisoned.push(poison.reason),
      handle: () => undefined,
    });
    await handler({ Records: [kinesisRecord('a', { key: 'a' }, 1)] });
    expect(poisoned).toEqual(['invalid version: collapse needs a version on every record']);
  });
});

describe('dynamoDBStreamHandler', () => {
  it('parses the change with its images unmarshalled, keys lanes by item key, reports SequenceNumbers', async () => {
    // By sequence number: lanes run concurrently, so arrival order across items is not fixed.
    const changes = new Map<string, DynamoDBChange>();
    const keys = new Map<string, string>();
    const handler = dynamoDBStreamHandler({
      parse: (change) => change as DynamoDBChange,
      handle: (change, record) => {
        keys.set(record.itemIdentifier, record.key);
        changes.set(record.itemIdentifier, change);
        if (change.newImage?.version === 3) throw new Error('write failed');
      },
    });
    const response = await handler({
      Records: [
        dynamoDBRecord('a', { pk: 'a', version: 2, blob: new Uint8Array([1, 2]) }, 1),
        dynamoDBRecord('a', undefined, 2, 'REMOVE'),
        dynamoDBRecord('b', { pk: 'b', version: 3 }, 3),
        dynamoDBRecord('b', { pk: 'b', version: 4 }, 4),
      ],
    });
    expect(failedIds(response)).toEqual(['1003', '1004']);
    expect(changes.get('1001')).toEqual({
      eventName: 'MODIFY',
      keys: { pk: 'a' },
      newImage: { pk: 'a', version: 2, blob: new Uint8Array([1, 2]) },
      oldImage: undefined,
    });
    expect(changes.get('1002')).toMatchObject({ eventName: 'REMOVE', newImage: undefined });
    expect(changes.has('1004')).toBe(false);
    expect(keys.get('1001')).toBe(keys.get('1002'));
    expect(keys.get('1001')).not.toBe(keys.get('1003'));
  });
});

describe('sqsHandler', () => {
  it('standard queue: reports only the failed message ids, each message in its own lane by default', async () => {
    const handler = sqsHandler({
      parse: Reading,
      handle: (reading) => {
        if (reading.version === 1) throw new Error('fail');
      },
    });
    const response = await handler({
      Records: [sqsRecord('m1', { key: 'a', version: 1 }), sqsRecord('m2', { key: 'a', version: 2 })],
    });
    expect(failedIds(response)).toEqual(['m1']);
  });

  it('FIFO queue: the failed message and every later message of its group, even with a custom key', async () => {
    const handled: string[] = [];
    const handler = sqsHandler({
      parse: Reading,
      key: (reading) => reading.key,
      handle: (reading) => {
        if (reading.key === 'x' && reading.version === 2) throw new Error('fail');
        handled.push(`${reading.key}${reading.version}`);
      },
    });
    const response = await handler({
      Records: [
        sqsRecord('1', { key: 'x', version: 1 }, 'g1'),
        sqsRecord('2', { key: 'x', version: 2 }, 'g1'),
        sqsRecord('3', { key: 'y', version: 1 }, 'g2'),
        sqsRecord('4', { key: 'z', version: 1 }, 'g1'),
        sqsRecord('5', { key: 'y', version: 2 }, 'g2'),
      ],
    });
    expect(failedIds(response)).toEqual(['2', '4']);
    expect(handled.sort()).toEqual(['x1', 'y1', 'y2']);
  });

  it('treats a body that is not JSON as poison', async () => {
    const reasons: string[] = [];
    const handler = sqsHandler({ onPoison: (p) => void reasons.push(p.kind), handle: () => undefined });
    await handler({ Records: [sqsRecord('m1', 'plain text')] });
    expect(reasons).toEqual(['undecodable']);
  });
});

describe('options', () => {
  it('are checked when the handler is built: unknown names, a missing handle, bad values', () => {
    const handle = () => undefined;
    expect(() => kinesisHandler({ handle, batchSize: 10 } as never)).toThrow(/unknown option; allowed: parse, key/);
    expect(() => kinesisHandler({} as never)).toThrow(/kinesisHandler.handle: must be a function/);
    expect(() => sqsHandler({ handle, concurrency: 0 })).toThrow(/sqsHandler.concurrency/);
    expect(() => sqsHandler({ handle, concurrency: 1.5 })).toThrow(/sqsHandler.concurrency/);
    expect(() => dynamoDBStreamHandler({ handle, parse: { parse: () => 1 } as never })).toThrow(/safeParse/);
    expect(() => kinesisHandler({ handle, collapse: 'yes' as never })).toThrow(/collapse/);
    expect(() => kinesisHandler({ handle, onPoison: {} as SQSClient as never })).toThrow(/onPoison/);
    try {
      kinesisHandler({ handle, concurrency: -1 });
    } catch (error) {
      expect(error instanceof RacesafeError && error.is('validation.invalidOption')).toBe(true);
    }
  });
});
