/** @module End-to-end: the pipeline's Lambdas on kinesalite and DynamoDB Local, under crashes and redeliveries. */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { kinesisHandler } from 'racesafe/stream';
import {
  createFaults,
  createTable,
  type EventSourceStats,
  type KinesisEngine,
  localClientConfig,
  readCommitLog,
  runKinesisEventSource,
  startKinesis,
  uniqueTableName,
} from 'racesafe/testing';
import { afterAll, beforeAll, describe, expect, onTestFinished } from 'vitest';
import type { OutcomeEvent } from '../../src/index.js';
import { runPipeline } from '../../src/lab/pipeline/run.js';
import { waitForActiveStream } from '../../src/testing/kinesis-engine.js';
import { itWhen, useEngine } from '../../test/engine.js';
import { createConsumer } from './consumer.js';
import { parseStateChange, type StateChange } from './state-change.js';

const engine = useEngine();
let kinesis: KinesisEngine;
beforeAll(async () => {
  kinesis = await startKinesis();
});
afterAll(() => kinesis?.stop());

const engines = () => ({ ...engine, kinesis: kinesis.client });

/** Small enough for 2 shared cores, large enough that every fault fires: batches of 20 make ~60 invocations. */
const workload = { events: 1200, keys: 30, shards: 2, batchSize: 20, parallelizationFactor: 3 } as const;
const faults = {
  producerRetry: 0.3,
  duplicateDelivery: 0.1,
  lostResponse: 0.1,
  concurrentInvocation: 0.3,
  crash: 0.01,
};

describe('racesafe pipeline end to end', () => {
  itWhen(['streams'])(
    'safe consumer: crashes mid-batch and every kind of redelivery, and the verdict holds',
    async () => {
      const result = await runPipeline(engines(), { variant: 'safe', seed: 7, ...workload, faults });
      // The faults did happen, or the verdict would prove nothing.
      expect(result.crashes).toBeGreaterThan(0);
      expect(result.produced.producerRetries).toBeGreaterThan(0);
      expect(result.source.redeliveries).toBeGreaterThan(0);
      expect(result.source.injected.concurrentInvocations).toBeGreaterThan(0);
      expect(result.outcomes.stale + result.outcomes.duplicate).toBeGreaterThan(0);
      expect(result.source.recordsSentToOnFailure).toBe(0);
      expect(result.consumed).toBe(result.produced.records);
      expect(result.verdict).toEqual({
        holds: true,
        keysWrong: 0,
        regressions: 0,
        duplicateStreamRecords: 0,
        examples: [],
      });
    },
    240_000,
  );

  itWhen(['streams'])(
    'naive consumer: the same setup corrupts the state table stream',
    async () => {
      const result = await runPipeline(engines(), { variant: 'naive', seed: 7, ...workload, faults });
      expect(result.verdict.holds).toBe(false);
      expect(result.verdict.regressions + result.verdict.duplicateStreamRecords).toBeGreaterThan(0);
      expect(result.verdict.examples.length).toBeGreaterThan(0);
    },
    240_000,
  );
});

/**
 * Kinesis partial batch responses: Lambda checkpoints at the LOWEST failed sequence number and redelivers every record
 * after it, including records of other keys that were already written (Lambda developer guide, "Reporting batch item
 * failures": "Lambda ... retries the batch starting from the lowest sequence number"). With versioned writes, the
 * replayed records are `duplicate` and write nothing; with plain puts the table's stream goes backwards.
 */
describe('redelivery from the lowest failed sequence number', () => {
  // One shard, one batch, keys interleaved: a1 b1 a2 b2 a3 b3. The write of a2 lands, then the consumer dies.
  const changes: StateChange[] = [1, 2, 3].flatMap((version) =>
    ['a', 'b'].map((key) => ({ key, version, temperature: version * 10 })),
  );

  async function replay(handlerFor: (tableName: string) => Parameters<typeof runKinesisEventSource>[0]['handler']) {
    const tableName = uniqueTableName('pipeline_replay');
    const { streamArn } = await createTable(engine.dynamodb, {
      name: tableName,
      partitionKey: 'key',
      stream: 'NEW_AND_OLD_IMAGES',
    });
    const streamName = uniqueTableName('pipeline_replay');
    await kinesis.client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
    await waitForActiveStream(kinesis.client, streamName);
    await kinesis.client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: changes.map((change) => ({ PartitionKey: change.key, Data: Buffer.from(JSON.stringify(change)) })),
      }),
    );
    const runner = await runKinesisEventSource({
      client: kinesis.client,
      streamName,
      handler: handlerFor(tableName),
      batchSize: 10,
      maxRetries: 2,
    });
    let stats: EventSourceStats;
    try {
      await runner.drain();
      stats = runner.stats();
    } finally {
      await runner.stop();
    }
    const log = await readCommitLog(engine.streams, streamArn as string);
    const scan = await engine.client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
    const stored = Object.fromEntries((scan.Items ?? []).map((item) => [item.key, item.version]));
    const committed = log.map((entry) => `${entry.keys.key}${entry.newImage?.version}`);
    return { stats, stored, committed };
  }

  /** A consumer's own client that dies right after its 2nd PutItem on key `a` (a2) was committed. */
  function crashingClient() {
    const faults = createFaults({
      keyAttributes: ['key'],
      crash: { commands: ['PutItem'], match: (request) => request.key?.key === 'a', nth: 2, when: 'after' },
    });
    const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
    const client = DynamoDBDocumentClient.from(dynamodb);
    faults.attach(client);
    onTestFinished(() => dynamodb.destroy());
    return { client, faults };
  }

  itWhen(['streams'])('replays b2 and b3, already written: skipped, no stream record, no regression', async () => {
    const outcomes: string[] = [];
    const observe = (event: OutcomeEvent) =>
      outcomes.push(`${event.context?.key}${event.context?.version} ${event.status}`);
    const { client, faults } = crashingClient();
    const result = await replay((tableName) => createConsumer({ client, tableName, observe }));
    expect(faults.stats.crash.injected).toBe(1);
    // First invocation: a2 failed (and a3 behind it in its lane); b's lane finished. Lambda resumes at a2's sequence
    // number, so b2 and b3 come again.
    expect(result.stats.partialFailures).toBe(1);
    expect(result.stats.redeliveries).toBe(4);
    expect(outcomes.filter((line) => line.startsWith('b'))).toEqual([
      'b1 applied',
      'b2 applied',
      'b3 applied',
      'b2 stale', // b3 is stored: skipped by the condition, no write
      'b3 duplicate',
    ]);
    expect(outcomes).toContain('a2 duplicate'); // its write had landed before the crash
    expect(result.stored).toEqual({ a: 3, b: 3 });
    expect([...result.committed].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
  });

  itWhen(['streams'])(
    'the same replay with plain puts takes b back to version 2 on the stream, invisibly in the final state',
    async () => {
      const { client, faults } = crashingClient();
      const result = await replay((tableName) =>
        kinesisHandler({
          parse: parseStateChange,
          key: (change) => change.key,
          // Unconditional: each write stamps its time, as state tables do, so a rewrite is a new stream record.
          handle: (change) =>
            client.send(new PutCommand({ TableName: tableName, Item: { ...change, at: Date.now() } })),
        }),
      );
      expect(faults.stats.crash.injected).toBe(1);
      expect(result.stats.redeliveries).toBe(4);
      expect(result.stored).toEqual({ a: 3, b: 3 });
      const b = result.committed.filter((entry) => entry.startsWith('b'));
      expect(b).toEqual(['b1', 'b2', 'b3', 'b2', 'b3']);
    },
  );
});
