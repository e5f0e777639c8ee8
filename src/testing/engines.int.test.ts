import { type ChildProcess, spawn } from 'node:child_process';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, inject, it } from 'vitest';
import { jvmsOnPort } from '../../test/jvms.js';
import { startDynamoDB } from './dynamodb-engine.js';
import { hasJava } from './java.js';
import { startKinesis } from './kinesis-engine.js';
import { createTable, deleteTable, uniqueTableName } from './tables.js';

/** Starts DynamoDB Local in a child Node process and returns the child and the engine's port. */
async function startEngineInChild(): Promise<{ child: ChildProcess; port: string }> {
  const script = `
    import { startDynamoDB } from './src/testing/dynamodb-engine.ts';
    const db = await startDynamoDB({ engine: 'dynamodb-local' });
    console.log(new URL(db.endpoint).port);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout?.once('data', (chunk) => resolve(String(chunk).trim())),
  );
  return { child, port };
}

// These tests start their own engines, so they run once: in the DynamoDB Local project.
const ownEngineTests = inject('engine').name === 'dynamodb-local' && hasJava();

describe.runIf(ownEngineTests)('startDynamoDB', () => {
  it('starts DynamoDB Local, measures its capabilities, and leaves no JVM after stop()', async () => {
    const db = await startDynamoDB({ engine: 'dynamodb-local' });
    const port = new URL(db.endpoint).port;
    expect(db.engine).toBe('dynamodb-local');
    expect(db.capabilities).toEqual({
      transactions: true,
      returnValuesOnConditionCheckFailure: true,
      streams: true,
      ttl: true,
    });
    expect(jvmsOnPort(port)).toHaveLength(1);
    await db.dynamodb.send(new ListTablesCommand({}));
    await db.stop();
    await db.stop(); // idempotent
    expect(jvmsOnPort(port)).toEqual([]);
  });

  it('leaves no JVM when the process that started it is SIGKILLed (no exit handler runs)', async () => {
    const { child, port } = await startEngineInChild();
    try {
      expect(jvmsOnPort(port)).toHaveLength(1);
      child.kill('SIGKILL');
      await expect.poll(() => jvmsOnPort(port), { timeout: 10_000, interval: 200 }).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops the JVM when the process is interrupted with SIGINT', async () => {
    const { child, port } = await startEngineInChild();
    try {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      await expect.poll(() => jvmsOnPort(port), { timeout: 10_000, interval: 200 }).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('rejects an unknown engine name with a typed error naming the option', async () => {
    await expect(startDynamoDB({ engine: 'cassandra' as never })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'engine' },
    });
  });
});

describe('dynalite fallback', () => {
  it('starts in-process and reports that it lacks transactions, ALL_OLD on failure, streams and TTL', async () => {
    const db = await startDynamoDB({ engine: 'dynalite' });
    try {
      expect(db.pid).toBeUndefined();
      expect(db.capabilities).toEqual({
        transactions: false,
        returnValuesOnConditionCheckFailure: false,
        streams: false,
        ttl: false,
      });
    } finally {
      await db.stop();
    }
  });
});

describe('startKinesis', () => {
  it('serves a Kinesis API over HTTP/1.1 that creates streams by name', async () => {
    const kinesis = await startKinesis();
    try {
      await kinesis.client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 2 }));
      const summary = await kinesis.client.send(new DescribeStreamSummaryCommand({ StreamName: 'events' }));
      expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(2);
    } finally {
      await kinesis.stop();
    }
  });
});

describe('createTable', () => {
  it('creates a keyed table, with a stream when the engine has streams', async () => {
    const engine = inject('engine');
    const db = await startDynamoDB({ engine: engine.name });
    try {
      const name = uniqueTableName('tables');
      const created = await createTable(db.client, {
        name,
        partitionKey: 'pk',
        sortKey: { name: 'sk', type: 'N' },
        ...(db.capabilities.streams ? { stream: 'NEW_AND_OLD_IMAGES' as const } : {}),
      });
      expect(created.name).toBe(name);
      expect(Boolean(created.streamArn)).toBe(db.capabilities.streams);
      await deleteTable(db.client, name);
      await deleteTable(db.client, name); // already gone is fine
    } finally {
      await db.stop();
    }
  });
});
