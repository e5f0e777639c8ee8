import { CreateStreamCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamHandler } from 'aws-lambda';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeWhen } from '../../../test/engine.js';
import { type KinesisEngine, startKinesis, waitForActiveStream } from '../kinesis-engine.js';
import { seededRandom } from '../random.js';
import { type EventSourceFailure, type KinesisEventSourceOptions, runKinesisEventSource } from './index.js';
import { hash32 } from './shard-poller.js';

// kinesalite does not depend on the DynamoDB engine of the project: run these once, in the dynamodb-local project.
const skipReason = 'uses kinesalite only, so runs once, in the dynamodb-local project';
describeWhen(process.env.RACESAFE_TEST_ENGINE !== 'dynalite', skipReason)('runKinesisEventSource on kinesalite', () => {
  let kinesis: KinesisEngine;
  let streams = 0;
  beforeAll(async () => {
    kinesis = await startKinesis();
  });
  afterAll(async () => {
    await kinesis.stop();
  });

  /** A new stream with `shards` shards. */
  async function createStream(shards: number): Promise<string> {
    streams += 1;
    const name = `events-${streams}`;
    await kinesis.client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    await waitUntilActive(name);
    return name;
  }

  /** kinesalite creates and splits asynchronously: writes before ACTIVE fail with ResourceNotFoundException. */
  async function waitUntilActive(streamName: string): Promise<void> {
    await waitForActiveStream(kinesis.client, streamName);
  }

  /** Puts records in order (one PutRecords call per 500) and returns their shard and sequence numbers. */
  async function put(streamName: string, records: readonly { key: string; body: unknown }[]) {
    const written: { shardId: string; sequenceNumber: string; key: string; body: unknown }[] = [];
    for (let start = 0; start < records.length; start += 500) {
      const chunk = records.slice(start, start + 500);
      const response = await kinesis.client.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: chunk.map((record) => ({
            PartitionKey: record.key,
            Data: new TextEncoder().encode(JSON.stringify(record.body)),
          })),
        }),
      );
      response.Records?.forEach((result, index) => {
        const record = chunk[index] as (typeof chunk)[number];
        written.push({ shardId: result.ShardId ?? '', sequenceNumber: result.SequenceNumber ?? '', ...record });
      });
    }
    return written;
  }

  /** Runs the event source until drained, then stops it, whatever happens. */
  async function runUntilDrained(options: Omit<KinesisEventSourceOptions, 'client'>) {
    const runner = await runKinesisEventSource({ client: kinesis.client, pollIntervalMs: 5, ...options });
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    return runner;
  }

  const body = (record: { kinesis: { data: string } }) =>
    JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { key: string; version: number };
  const sequences = (event: KinesisStreamEvent) => event.Records.map((record) => record.kinesis.sequenceNumber);

  it('delivers events in the documented Lambda shape', async () => {
    const streamName = await createStream(1);
    const [first, second] = await put(streamName, [
      { key: 'user-1', body: { key: 'user-1', version: 1 } },
      { key: 'user-2', body: 'plain text' },
    ]);
    const events: KinesisStreamEvent[] = [];
    const runner = await runUntilDrained({ streamName, handler: async (event) => void events.push(event) });

    expect(events).toHaveLength(1);
    const records = (events[0] as KinesisStreamEvent).Records;
    const expected = [first, second].map((written) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: written?.key,
        sequenceNumber: written?.sequenceNumber,
        data: Buffer.from(JSON.stringify(written?.body)).toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${written?.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::\d{12}:role\//),
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
    }));
    // toStrictEqual: no extra key, no undefined-valued key, exactly Lambda's fields.
    expect(records).toStrictEqual(expected);
    expect(runner.streamArn).toBe(`arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`);
    // Epoch seconds with a millisecond fraction, as Lambda sends it (not milliseconds, not an ISO string).
    for (const record of records) {
      expect(Math.abs(record.kinesis.approximateArrivalTimestamp - Date.now() / 1000)).toBeLessThan(3600);
    }
  });

  it('delivers every record once, in order per partition key, and checkpoints each shard at its last record', async () => {
    const streamName = await createStream(2);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const written = await put(
      streamName,
      Array.from({ length: 60 }, (_, i) => {
        const key = keys[i % keys.length] as string;
        return { key, body: { key, version: Math.floor(i / keys.length) + 1 } };
      }),
    );
    const seen = new Map<string, number[]>();
    const shardsSeen = new Set<string>();
    const runner = await runUntilDrained({
      streamName,
      batchSize: 7,
      handler: async (event) => {
        for (const record of event.Records) {
          shardsSeen.add(record.eventID.split(':')[0] as string);
          const { key, version } = body(record);
          seen.set(key, [...(seen.get(key) ?? []), version]);
        }
      },
    });

    expect(shardsSeen.size).toBe(2); // both shards really were polled
    for (const key of keys) expect(seen.get(key)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(runner.stats()).toMatchObject({ recordsDelivered: 60, redeliveries: 0, recordsSentToOnFailure: 0 });
    const lastPerShard: Record<string, string> = {};
    for (const record of written) lastPerShard[record.shardId] = record.sequenceNumber;
    expect(runner.checkpoints()).toEqual(lastPerShard);
  });

  it('after a partial batch response, redelivers from the LOWEST reported record and not before', async () => {
    const streamName = await createStream(1);
    const written = await put(
      streamName,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, body: { key: `k${i}`, version: 1 } })),
    );
    const all = written.map((record) => record.sequenceNumber);
    const delivered: string[][] = [];
    const runner = await runUntilDrained({
      streamName,
      batchSize: 10,
      handler: async (event): Promise<KinesisStreamBatchResponse> => {
        delivered.push(sequences(event));
        if (delivered.length > 1) return { batchItemFailures: [] };
        // Reported out of order on purpose: Lambda checkpoints at the lowest sequence number, record 4.
        return { batchItemFailures: [{ itemIdentifier: all[6] as string }, { itemIdentifier: all[4] as string }] };
      },
    });

    expect(delivered).toEqual([all, all.slice(4)]);
    expect(runner.stats()).toMatchObject({ invocations: 2, redeliveries: 6, partialFailures: 1 });
    expect(runner.checkpoints()).toEqual({ 'shardId-000000000000': all[9] });
  });

  it('retries the whole batch after a throw or a malformed response', async () => {
    const streamName = await createStream(1);
    const written = await put(
      streamName,
      Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, body: { key: `k${i}`, version: 1 } })),
    );
    const all = written.map((record) => record.sequenceNumber);
    const delivered: string[][] = [];
    const responses: unknown[] = [{ batchItemFailures: [{ itemIdentifier: '' }] }, { batchItemFailures: 'none' }, {}];
    const runner = await runUntilDrained({
      streamName,
      maxRetries: 5,
      handler: async (event) => {
        delivered.push(sequences(event));
        if (delivered.length === 1) throw new Error('database unavailable');
        return responses[delivered.length - 2] as KinesisStreamBatchResponse;
      },
    });

    // A throw, an empty itemIdentifier and a non-list batchItemFailures each fail the whole batch; `{}` is success.
    expect(delivered).toEqual([all, all, all, all]);
    expect(runner.stats()).toMatchObject({ invocations: 4, failedInvocations: 3, recordsSentToOnFailure: 0 });
  });

  it('bisects a failing batch until the poison record is alone, and sends only it to onFailure', async () => {
    const streamName = await createStream(1);
    const written = await put(
      streamName,
      Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, body: { key: `k${i}`, version: 1 } })),
    );
    const all = written.map((record) => record.sequenceNumber);
    const poison = all[5] as string;
    const sizes: number[] = [];
    const succeeded: string[] = [];
    const failures: EventSourceFailure<unknown>[] = [];
    await runUntilDrained({
      streamName,
      batchSize: 8,
      bisectOnError: true,
      maxRetries: 1,
      onFailure: (failure) => void failures.push(failure),
      handler: async (event) => {
        sizes.push(event.Records.length);
        if (sequences(event).includes(poison)) throw new Error('poison');
        succeeded.push(...sequences(event));
      },
    });

    // 8 fails -> [0..3] ok, [4..7] fails -> [4,5] fails -> [4] ok, [5] fails, retried once, fails -> [6,7] ok.
    expect(sizes).toEqual([8, 4, 4, 2, 1, 1, 1, 2]);
    expect(succeeded).toEqual(all.filter((sequence) => sequence !== poison));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      startSequenceNumber: poison,
      endSequenceNumber: poison,
      batchSize: 1,
      shardId: 'shardId-000000000000',
    });
    expect(failures[0]?.reason).toContain('poison');
  });

  it('sends a batch whose retries are exhausted to onFailure with Lambda-like metadata, then moves on', async () => {
    const streamName = await createStream(1);
    const written = await put(
      streamName,
      Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, body: { key: `k${i}`, version: 1 } })),
    );
    const all = written.map((record) => record.sequenceNumber);
    const delivered: string[][] = [];
    const failures: EventSourceFailure<unknown>[] = [];
    const runner = await runUntilDrained({
      streamName,
      batchSize: 3,
      maxRetries: 2,
      onFailure: async (failure) => void failures.push(failure),
      handler: async (event) => {
        delivered.push(sequences(event));
        if (sequences(event).includes(all[1] as string)) throw new TypeError('cannot parse record 1');
      },
    });

    const firstBatch = all.slice(0, 3);
    expect(delivered).toEqual([firstBatch, firstBatch, firstBatch, all.slice(3)]);
    expect(failures).toHaveLength(1);
    const failure = failures[0] as EventSourceFailure<{ kinesis: { sequenceNumber: string } }>;
    expect(failure).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
      shardId: 'shardId-000000000000',
      streamArn: runner.streamArn,
      startSequenceNumber: all[0],
      endSequenceNumber: all[2],
      batchSize: 3,
      reason: 'the function threw: TypeError: cannot parse record 1',
    });
    expect(failure.error).toBeInstanceOf(TypeError);
    expect(failure.records.map((record) => record.kinesis.sequenceNumber)).toEqual(firstBatch);
    expect(new Date(failure.approximateArrivalOfFirstRecord).toISOString()).toBe(
      failure.approximateArrivalOfFirstRecord,
    );
    expect(runner.stats()).toMatchObject({ recordsSentToOnFailure: 3 });
    expect(runner.checkpoints()).toEqual({ 'shardId-000000000000': all[5] });
  });

  it('with parallelizationFactor > 1 runs batches of one shard concurrently, in order per key', async () => {
    const streamName = await createStream(1);
    // Few keys, so that every read (up to batchSize × factor = 8 records) holds several versions of each key.
    const keys = ['key-0', 'key-1', 'key-2'];
    await put(
      streamName,
      Array.from({ length: 48 }, (_, i) => {
        const key = keys[i % keys.length] as string;
        return { key, body: { key, version: Math.floor(i / keys.length) + 1 } };
      }),
    );
    const lastVersion = new Map<string, number>();
    const outOfOrder: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const random = seededRandom(3);
    const runner = await runUntilDrained({
      streamName,
      batchSize: 2,
      parallelizationFactor: 4,
      handler: async (event) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
        for (const record of event.Records) {
          const { key, version } = body(record);
          if (version !== (lastVersion.get(key) ?? 0) + 1) outOfOrder.push(`${key}@${version}`);
          lastVersion.set(key, version);
        }
        inFlight -= 1;
      },
    });

    expect(maxInFlight).toBeGreaterThan(1);
    expect(outOfOrder).toEqual([]);
    expect([...lastVersion.values()]).toEqual(keys.map(() => 16));
    expect(runner.stats()).toMatchObject({ recordsDelivered: 48, redeliveries: 0 });
  });

  it('with parallelizationFactor > 1 never checkpoints past a record that is still in flight', async () => {
    const streamName = await createStream(1);
    const lanes = 4;
    const slow = 'slow';
    // Keys on other lanes than `slow`, so that only `slow`'s lane is held back.
    const others = Array.from({ length: 40 }, (_, i) => `other-${i}`)
      .filter((key) => hash32(key) % lanes !== hash32(slow) % lanes)
      .slice(0, 3);
    const records = [others[0], others[1], slow, others[2], others[0], others[1], others[2]].map((key) => ({
      key: key as string,
      body: { key, version: 1 },
    }));
    const written = await put(streamName, records);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let othersDone = 0;
    let allOthersDone: () => void = () => undefined;
    const othersFinished = new Promise<void>((resolve) => {
      allOthersDone = resolve;
    });
    const handler: KinesisStreamHandler = async (event) => {
      for (const record of event.Records) {
        if (record.kinesis.partitionKey === slow) await gate;
        else if (++othersDone === 6) allOthersDone();
      }
    };
    const runner = await runKinesisEventSource({
      client: kinesis.client,
      streamName,
      batchSize: 1,
      parallelizationFactor: lanes,
      pollIntervalMs: 5,
      handler,
    });
    try {
      await othersFinished;
      // Records 0 and 1 are done, 2 (`slow`) is in flight, 3..6 are done: Lambda's checkpoint stays at record 1.
      expect(runner.checkpoints()).toEqual({ 'shardId-000000000000': written[1]?.sequenceNumber });
      release();
      await runner.drain();
      expect(runner.checkpoints()).toEqual({ 'shardId-000000000000': written[6]?.sequenceNumber });
    } finally {
      release();
      await runner.stop();
    }
  });

  it('injects duplicate deliveries: every batch delivered twice', async () => {
    const streamName = await createStream(2);
    await put(
      streamName,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 5}`, body: { key: `k${i % 5}`, version: i } })),
    );
    const deliveries = new Map<string, number>();
    const runner = await runUntilDrained({
      streamName,
      batchSize: 4,
      faults: { duplicateDelivery: 1 },
      handler: async (event) => {
        for (const record of event.Records) deliveries.set(record.eventID, (deliveries.get(record.eventID) ?? 0) + 1);
      },
    });

    expect(deliveries.size).toBe(20);
    expect(new Set(deliveries.values())).toEqual(new Set([2]));
    const stats = runner.stats();
    expect(stats).toMatchObject({ recordsDelivered: 40, redeliveries: 20 });
    expect(stats.injected.duplicateDeliveries * 2).toBe(stats.invocations);
  });

  it('injects concurrent invocations: the same records in two overlapping invocations', async () => {
    const streamName = await createStream(1);
    await put(
      streamName,
      Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, body: { key: `k${i}`, version: 1 } })),
    );
    const active = new Map<string, number>();
    const maxOverlap = new Map<string, number>();
    const runner = await runUntilDrained({
      streamName,
      batchSize: 3,
      faults: { concurrentInvocation: 1 },
      handler: async (event) => {
        for (const { eventID } of event.Records) {
          active.set(eventID, (active.get(eventID) ?? 0) + 1);
          maxOverlap.set(eventID, Math.max(maxOverlap.get(eventID) ?? 0, active.get(eventID) ?? 0));
        }
        await new Promise((resolve) => setImmediate(resolve));
        for (const { eventID } of event.Records) active.set(eventID, (active.get(eventID) ?? 0) - 1);
      },
    });

    expect(maxOverlap.size).toBe(6);
    expect(new Set(maxOverlap.values())).toEqual(new Set([2]));
    expect(runner.stats()).toMatchObject({ invocations: 4, injected: { concurrentInvocations: 2 } });
  });

  it('injects lost responses as whole-batch retries, and the same seed replays the same deliveries', async () => {
    const streamName = await createStream(1);
    await put(
      streamName,
      Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, body: { key: `k${i % 3}`, version: i } })),
    );
    const run = async (seed: number) => {
      const log: string[] = [];
      const runner = await runUntilDrained({
        streamName,
        batchSize: 4,
        maxRetries: -1,
        faults: { seed, lostResponse: 0.5, duplicateDelivery: 0.2 },
        handler: async (event) => void log.push(`${event.Records.length}@${sequences(event)[0]}`),
      });
      return { log, stats: runner.stats() };
    };
    const first = await run(7);
    const again = await run(7);

    expect(first.stats.injected.lostResponses).toBeGreaterThan(0);
    expect(first.stats.redeliveries).toBeGreaterThan(0);
    expect(first.stats.recordsSentToOnFailure).toBe(0);
    expect(again.log).toEqual(first.log);
    expect(again.stats).toEqual(first.stats);
  });

  it('reads a split shard to its end before its children, so each key stays in order across the split', async () => {
    const streamName = await createStream(1);
    const keys = ['a', 'b', 'c', 'd'];
    const versions = (from: number) =>
      Array.from({ length: 12 }, (_, i) => {
        const key = keys[i % keys.length] as string;
        return { key, body: { key, version: from + Math.floor(i / keys.length) } };
      });
    await put(streamName, versions(1));
    await kinesis.client.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitUntilActive(streamName); // kinesalite marks the stream UPDATING before it answers SplitShard
    await put(streamName, versions(4));
    const log: string[] = [];
    const seen = new Map<string, number[]>();
    const runner = await runUntilDrained({
      streamName,
      batchSize: 2,
      handler: async (event) => {
        const shardId = event.Records[0]?.eventID.split(':')[0] ?? '';
        log.push(`start ${shardId}`);
        await new Promise((resolve) => setImmediate(resolve));
        for (const record of event.Records) {
          const { key, version } = body(record);
          seen.set(key, [...(seen.get(key) ?? []), version]);
        }
        log.push(`end ${shardId}`);
      },
    });

    for (const key of keys) expect(seen.get(key)).toEqual([1, 2, 3, 4, 5, 6]);
    const lastParentEnd = log.lastIndexOf('end shardId-000000000000');
    const firstChildStart = log.findIndex((entry) => entry.startsWith('start') && !entry.endsWith('000000000000'));
    expect(firstChildStart).toBeGreaterThan(lastParentEnd);
    expect(Object.keys(runner.checkpoints()).sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000002',
    ]);
  });

  it('leaves none of its poll sleeps and no invocation running after stop()', async () => {
    const streamName = await createStream(2);
    await put(streamName, [{ key: 'k', body: { key: 'k', version: 1 } }]);
    // Only the runner sleeps for the poll interval; the SDK's and other tests' timers come and go on their own, so
    // counting every Timeout in the process made this test flaky. Track the runner's sleeps by their delay.
    const pollIntervalMs = 30_000;
    const sleeps = new Set<ReturnType<typeof setTimeout>>();
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
      callback: () => void,
      ms?: number,
      ...args: unknown[]
    ) => {
      const timer: ReturnType<typeof setTimeout> = Reflect.apply(realSetTimeout, globalThis, [callback, ms, ...args]);
      if (ms === pollIntervalMs) sleeps.add(timer);
      return timer;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
      sleeps.delete(timer as ReturnType<typeof setTimeout>);
      realClearTimeout(timer);
    });
    try {
      let invocations = 0;
      // A long poll interval: at stop() both shard pollers and the shard discovery are asleep on a timer.
      const runner = await runKinesisEventSource({
        client: kinesis.client,
        streamName,
        pollIntervalMs,
        handler: async () => {
          invocations += 1;
        },
      });
      await runner.drain();
      // drain() can return just before the last of them goes to sleep.
      await vi.waitFor(() => expect(sleeps.size).toBe(3), { timeout: 5_000, interval: 20 });
      await runner.stop();
      await runner.stop(); // idempotent
      expect(sleeps.size).toBe(0);
      expect(invocations).toBe(1);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it('fails drain() with a typed error carrying the cause when the onFailure sink throws, and stops', async () => {
    const streamName = await createStream(1);
    await put(streamName, [{ key: 'k', body: { key: 'k', version: 1 } }]);
    const sinkDown = new Error('dead-letter queue unavailable');
    const runner = await runKinesisEventSource({
      client: kinesis.client,
      streamName,
      pollIntervalMs: 5,
      maxRetries: 0,
      handler: async () => {
        throw new Error('always');
      },
      onFailure: async () => {
        throw sinkDown;
      },
    });
    try {
      await expect(runner.drain()).rejects.toMatchObject({ code: 'service.failure', cause: sinkDown });
      // Not checkpointed past the record: the sink did not take it.
      expect(runner.checkpoints()).toEqual({ 'shardId-000000000000': undefined });
    } finally {
      await runner.stop();
    }
  });

  it('rejects unknown options and out-of-range values with typed errors', async () => {
    const handler: KinesisStreamHandler = async () => undefined;
    await expect(
      runKinesisEventSource({ client: kinesis.client, streamName: 's', handler, batchsize: 5 } as never),
    ).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'runKinesisEventSource.batchsize' },
    });
    await expect(
      runKinesisEventSource({ client: kinesis.client, streamName: 's', handler, parallelizationFactor: 11 }),
    ).rejects.toMatchObject({ details: { field: 'runKinesisEventSource.parallelizationFactor' } });
    await expect(
      runKinesisEventSource({ client: kinesis.client, streamName: 's', handler, faults: { lostResponse: 2 } }),
    ).rejects.toMatchObject({ details: { field: 'runKinesisEventSource.faults.lostResponse' } });
  });
});
