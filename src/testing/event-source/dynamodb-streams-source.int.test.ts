import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { itWhen, useEngine } from '../../../test/engine.js';
import { createTable, deleteTable, uniqueTableName } from '../tables.js';
import { type DynamoDBStreamsEventSourceOptions, runDynamoDBStreamsEventSource } from './index.js';

describe('runDynamoDBStreamsEventSource on the engine', () => {
  const engine = useEngine();

  /** A table with a stream; `use` gets its name and stream ARN, and the table is deleted after. */
  async function withStreamTable(use: (table: { name: string; streamArn: string }) => Promise<void>) {
    const name = uniqueTableName('event_source');
    const created = await createTable(engine.dynamodb, {
      name,
      partitionKey: 'pk',
      sortKey: 'sk',
      stream: 'NEW_AND_OLD_IMAGES',
    });
    try {
      await use({ name, streamArn: created.streamArn ?? '' });
    } finally {
      await deleteTable(engine.dynamodb, name);
    }
  }

  async function runUntilDrained(options: Omit<DynamoDBStreamsEventSourceOptions, 'client'>) {
    const runner = await runDynamoDBStreamsEventSource({ client: engine.streams, pollIntervalMs: 5, ...options });
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    return runner;
  }

  async function putVersion(table: string, pk: string, version: number) {
    await engine.dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: pk }, sk: { S: 'state' }, version: { N: `${version}` } },
      }),
    );
  }

  const versionOf = (record: DynamoDBRecord) => Number(record.dynamodb?.NewImage?.version?.N);

  itWhen(['streams'])('delivers INSERT, MODIFY and REMOVE in the documented Lambda shape', async () => {
    await withStreamTable(async ({ name, streamArn }) => {
      const key = { pk: { S: 'doc-1' }, sk: { S: 'v' } };
      await engine.dynamodb.send(
        new PutItemCommand({ TableName: name, Item: { ...key, blob: { B: Buffer.from('hi') }, n: { N: '1' } } }),
      );
      await engine.dynamodb.send(
        new UpdateItemCommand({
          TableName: name,
          Key: key,
          UpdateExpression: 'SET n = :n, tags = :tags',
          ExpressionAttributeValues: { ':n': { N: '2' }, ':tags': { L: [{ B: Buffer.from([1, 2]) }, { S: 'x' }] } },
        }),
      );
      await engine.dynamodb.send(new DeleteItemCommand({ TableName: name, Key: key }));
      const events: DynamoDBStreamEvent[] = [];
      await runUntilDrained({ streamArn, handler: async (event) => void events.push(event) });

      const records = events.flatMap((event) => event.Records);
      expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
      const sequenceNumbers = records.map((record) => record.dynamodb?.SequenceNumber ?? '');
      expect(sequenceNumbers.map(BigInt)).toEqual([...sequenceNumbers.map(BigInt)].sort((a, b) => (a < b ? -1 : 1)));
      const envelope = {
        eventID: expect.any(String),
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: expect.any(String),
        eventSourceARN: streamArn,
      };
      const streamFields = {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: key,
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      };
      // The wire format Lambda sends: binary as base64 strings, numbers as strings, at every depth.
      const inserted = { ...key, blob: { B: 'aGk=' }, n: { N: '1' } };
      const modified = { ...inserted, n: { N: '2' }, tags: { L: [{ B: 'AQI=' }, { S: 'x' }] } };
      expect(records).toStrictEqual([
        { ...envelope, eventName: 'INSERT', dynamodb: { ...streamFields, NewImage: inserted } },
        { ...envelope, eventName: 'MODIFY', dynamodb: { ...streamFields, NewImage: modified, OldImage: inserted } },
        { ...envelope, eventName: 'REMOVE', dynamodb: { ...streamFields, OldImage: modified } },
      ]);
      // JSON-safe (no Date, no Uint8Array), exactly as a Lambda event arrives; epoch seconds, not milliseconds.
      expect(JSON.parse(JSON.stringify(records))).toStrictEqual(records);
      for (const record of records) {
        expect(Math.abs((record.dynamodb?.ApproximateCreationDateTime ?? 0) - Date.now() / 1000)).toBeLessThan(3600);
      }
    });
  });

  itWhen(['streams'])(
    'redelivers from the lowest reported record, and keeps each key in order with parallelizationFactor 3',
    async () => {
      await withStreamTable(async ({ name, streamArn }) => {
        const keys = ['a', 'b', 'c', 'd', 'e'];
        for (let version = 1; version <= 4; version++) {
          for (const key of keys) await putVersion(name, key, version);
        }
        const deliveries: { key: string; version: number }[][] = [];
        const lastVersion = new Map<string, number>();
        const regressions: string[] = [];
        let failedOnce = false;
        const runner = await runUntilDrained({
          streamArn,
          batchSize: 3,
          parallelizationFactor: 3,
          handler: async (event): Promise<DynamoDBBatchResponse> => {
            const batch = event.Records.map((record) => ({
              key: record.dynamodb?.Keys?.pk?.S ?? '',
              version: versionOf(record),
            }));
            deliveries.push(batch);
            const failAt = batch.findIndex(({ key, version }) => key === 'c' && version === 2);
            if (failAt >= 0 && !failedOnce) {
              failedOnce = true;
              // Records before `c@2` are done; `c@2` and the records after it come again.
              for (const { key, version } of batch.slice(0, failAt)) lastVersion.set(key, version);
              const failed = event.Records[failAt]?.dynamodb?.SequenceNumber ?? '';
              return { batchItemFailures: [{ itemIdentifier: failed }] };
            }
            for (const { key, version } of batch) {
              if (version < (lastVersion.get(key) ?? 0))
                regressions.push(`${key}: ${version} after ${lastVersion.get(key)}`);
              lastVersion.set(key, version);
            }
            return { batchItemFailures: [] };
          },
        });

        expect(failedOnce).toBe(true);
        const isFailed = ({ key, version }: { key: string; version: number }) => key === 'c' && version === 2;
        const failedAt = deliveries.findIndex((batch) => batch.some(isFailed));
        const failedBatch = deliveries[failedAt] ?? [];
        const failedIndex = failedBatch.findIndex(isFailed);
        const deliveredCount = (wanted: { key: string; version: number }) =>
          deliveries.flat().filter(({ key, version }) => key === wanted.key && version === wanted.version).length;
        // The lane's retry is exactly the records from c@2 on; the records before it are never delivered again.
        expect(deliveries.slice(failedAt + 1).find((batch) => batch.some(isFailed))).toEqual(
          failedBatch.slice(failedIndex),
        );
        for (const record of failedBatch.slice(0, failedIndex)) expect(deliveredCount(record)).toBe(1);
        for (const record of failedBatch.slice(failedIndex)) expect(deliveredCount(record)).toBe(2);
        expect(regressions).toEqual([]);
        expect([...lastVersion.entries()].sort()).toEqual(keys.map((key) => [key, 4]));
        const stats = runner.stats();
        expect(stats.recordsDelivered - stats.redeliveries).toBe(20);
        expect(stats.redeliveries).toBe(failedBatch.length - failedIndex);
      });
    },
  );

  itWhen(['streams'])('injects concurrent invocations and duplicate deliveries on a table stream', async () => {
    await withStreamTable(async ({ name, streamArn }) => {
      for (let version = 1; version <= 6; version++) await putVersion(name, `k${version % 2}`, version);
      const active = new Map<string, number>();
      const maxOverlap = new Map<string, number>();
      const deliveries = new Map<string, number>();
      const runner = await runUntilDrained({
        streamArn,
        batchSize: 2,
        faults: { seed: 11, concurrentInvocation: 1, duplicateDelivery: 1 },
        handler: async (event) => {
          for (const { eventID = '' } of event.Records) {
            deliveries.set(eventID, (deliveries.get(eventID) ?? 0) + 1);
            active.set(eventID, (active.get(eventID) ?? 0) + 1);
            maxOverlap.set(eventID, Math.max(maxOverlap.get(eventID) ?? 0, active.get(eventID) ?? 0));
          }
          await new Promise((resolve) => setImmediate(resolve));
          for (const { eventID = '' } of event.Records) active.set(eventID, (active.get(eventID) ?? 0) - 1);
        },
      });

      // Each batch: two overlapping invocations, then the duplicate delivery: three deliveries of every record.
      expect(deliveries.size).toBe(6);
      expect(new Set(deliveries.values())).toEqual(new Set([3]));
      expect(new Set(maxOverlap.values())).toEqual(new Set([2]));
      expect(runner.stats()).toMatchObject({ recordsDelivered: 18, redeliveries: 12 });
    });
  });

  itWhen(['streams'])('stop() rejects a pending drain() and leaves nothing running', async () => {
    await withStreamTable(async ({ name, streamArn }) => {
      await putVersion(name, 'k', 1);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => undefined;
      const invoked = new Promise<void>((resolve) => {
        started = resolve;
      });
      const runner = await runDynamoDBStreamsEventSource({
        client: engine.streams,
        streamArn,
        handler: async () => {
          started();
          await gate;
        },
      });
      const drained = runner.drain();
      await invoked;
      const stopped = runner.stop();
      release(); // stop() waits for the invocation in flight
      await stopped;
      await expect(drained).rejects.toMatchObject({ code: 'eventSource.stopped' });
      await expect(runner.drain()).rejects.toMatchObject({ code: 'eventSource.stopped' });
      expect(runner.stats().invocations).toBe(1);
    });
  });
});
