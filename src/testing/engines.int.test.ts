import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, inject, it } from 'vitest';
import { describeWhen, itWhen, useEngine } from '../../test/engine.js';
import { jvmsOnPort } from '../../test/jvms.js';
import { startDynamoDB } from './dynamodb-engine.js';
import { hasJava } from './java.js';
import { startKinesis } from './kinesis-engine.js';
import { createTable, deleteTable, uniqueTableName } from './tables.js';

/** DynamoDB Local started by a child Node process, and what the test can observe of that child. */
interface EngineInChild {
  readonly port: string;
  /** The engine's `pid`: its shell guard, which leads the process group that holds the JVM. */
  readonly pgid: number;
  /** Resolves with the child's exit code once the child exited and its output streams closed. */
  readonly closed: Promise<number | null>;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Tells the child to run the ending it was started with. */
  cue(): void;
  kill(signal: NodeJS.Signals): void;
}

/** Runs `script` (an ES module; TypeScript imports resolve through tsx) in a child Node process. */
function spawnScript(script: string, env: NodeJS.ProcessEnv = process.env) {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env });
}

/**
 * Starts DynamoDB Local in a child Node process that then waits for a cue on stdin and runs `ending` (a statement).
 * The child writes a line for every process-group kill it makes: the JVM's stdin-pipe guard (dynamodb-engine.ts) kills
 * the JVM whenever the child dies, so only that line shows that the child's own cleanup stopped the engine.
 */
async function startEngineInChild(ending = ''): Promise<EngineInChild> {
  const script = `
    import { writeSync } from 'node:fs';
    import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
    import { startDynamoDB } from './src/testing/dynamodb-engine.ts';
    const kill = process.kill.bind(process);
    process.kill = (pid, signal) => {
      if (pid < 0) writeSync(1, 'killed group ' + -pid + ' with ' + signal + '\\n');
      return kill(pid, signal);
    };
    const db = await startDynamoDB({ engine: 'dynamodb-local' });
    writeSync(1, JSON.stringify({ port: new URL(db.endpoint).port, pgid: db.pid }) + '\\n');
    process.stdin.once('data', () => {
      process.stdin.destroy();
      ${ending}
    });`;
  const child = spawnScript(script);
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const started = await Promise.race([
    new Promise<{ port: string; pgid: number }>((resolve) => {
      const onData = () => {
        const line = /^\{.*\}$/m.exec(output)?.[0];
        if (line === undefined) return;
        child.stdout.off('data', onData);
        resolve(JSON.parse(line));
      };
      child.stdout.on('data', onData);
    }),
    closed.then((code) =>
      Promise.reject(new Error(`the child exited (code ${code}) before the engine started: ${output}`)),
    ),
  ]);
  return {
    ...started,
    closed,
    output: () => output,
    cue: () => child.stdin.write('\n'),
    kill: (signal) => child.kill(signal),
  };
}

/**
 * Ends the child with `end` and checks that it exits with `exitCode`, that its cleanup killed the engine's process
 * group, and that no JVM is left on the engine's port. Kills the child whatever happens.
 */
async function expectCleanupStopsEngine(engine: EngineInChild, end: () => void, exitCode: number): Promise<void> {
  try {
    expect(jvmsOnPort(engine.port)).toHaveLength(1);
    end();
    const code = await engine.closed;
    expect(engine.output()).toContain(`killed group ${engine.pgid} with SIGKILL`);
    expect(code, engine.output()).toBe(exitCode);
    await expect.poll(() => jvmsOnPort(engine.port), { timeout: 10_000, interval: 200 }).toEqual([]);
  } finally {
    engine.kill('SIGKILL');
  }
}

// These tests start their own engines, so they run once: in the DynamoDB Local project.
const ownEngineTests = inject('engine').name === 'dynamodb-local' && hasJava();

const skipReason = 'starts its own DynamoDB Local, so runs once, in the dynamodb-local project with Java';

describeWhen(ownEngineTests, skipReason)('startDynamoDB', () => {
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

  it("'auto' picks DynamoDB Local when java is found, and leaves no JVM after stop()", async () => {
    const db = await startDynamoDB({ engine: 'auto' });
    const port = new URL(db.endpoint).port;
    try {
      expect(db.engine).toBe('dynamodb-local');
      expect(db.pid).toBeTypeOf('number');
      expect(db.capabilities).toMatchObject({ transactions: true, streams: true, ttl: true });
      expect(jvmsOnPort(port)).toHaveLength(1);
    } finally {
      await db.stop();
    }
    expect(jvmsOnPort(port)).toEqual([]);
  });

  it("'auto' falls back to dynalite in a process that finds no java (no JAVA_HOME, no java on PATH)", async () => {
    const script = `
      import { startDynamoDB } from './src/testing/dynamodb-engine.ts';
      import { hasJava } from './src/testing/java.ts';
      const db = await startDynamoDB({ engine: 'auto' });
      console.log(JSON.stringify({ javaFound: hasJava(), engine: db.engine, pid: db.pid ?? null }));
      await db.stop();`;
    const { JAVA_HOME: _javaHome, ...env } = process.env;
    // Node itself is run by absolute path; the PATH holds only the project's bin directory, which has no java.
    const child = spawnScript(script, { ...env, PATH: join(process.cwd(), 'node_modules', '.bin') });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, output).toBe(0);
    expect(JSON.parse(/^\{.*\}$/m.exec(output)?.[0] ?? 'null'), output).toEqual({
      javaFound: false,
      engine: 'dynalite',
      pid: null,
    });
  });

  it('leaves no JVM when the process that started it is SIGKILLed (no exit handler runs)', async () => {
    const engine = await startEngineInChild();
    try {
      expect(jvmsOnPort(engine.port)).toHaveLength(1);
      engine.kill('SIGKILL');
      await engine.closed;
      expect(engine.output()).not.toContain('killed group'); // the stdin-pipe guard alone stopped the JVM
      await expect.poll(() => jvmsOnPort(engine.port), { timeout: 10_000, interval: 200 }).toEqual([]);
    } finally {
      engine.kill('SIGKILL');
    }
  });

  it('stops the JVM when the process is interrupted with SIGINT', async () => {
    const engine = await startEngineInChild();
    await expectCleanupStopsEngine(engine, () => engine.kill('SIGINT'), 130);
  });

  it('stops the JVM when the process is terminated with SIGTERM', async () => {
    const engine = await startEngineInChild();
    await expectCleanupStopsEngine(engine, () => engine.kill('SIGTERM'), 143);
  });

  it('stops the JVM when an uncaught exception ends the process', async () => {
    const engine = await startEngineInChild(`throw new Error('uncaught after start');`);
    await expectCleanupStopsEngine(engine, engine.cue, 1);
    expect(engine.output()).toContain('uncaught after start');
  });

  it('stops the JVM when an unhandled promise rejection ends the process', async () => {
    const engine = await startEngineInChild(`Promise.reject(new Error('rejected after start'));`);
    await expectCleanupStopsEngine(engine, engine.cue, 1);
    expect(engine.output()).toContain('rejected after start');
  });

  it('stops the JVM when the process finishes its work and exits without calling stop()', async () => {
    // One request, then nothing is left to do: the event loop empties and Node exits 0.
    const engine = await startEngineInChild(
      `db.dynamodb.send(new ListTablesCommand({})).then(() => writeSync(1, 'work done\\n'));`,
    );
    await expectCleanupStopsEngine(engine, engine.cue, 0);
    expect(engine.output()).toContain('work done');
  });

  it('rejects an unknown engine name with a typed error naming the option', async () => {
    await expect(startDynamoDB({ engine: 'cassandra' as never })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'startDynamoDB.engine' },
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
  const shared = useEngine();

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

  itWhen(['ttl'])('turns on TTL on the ttlAttribute', async () => {
    const name = uniqueTableName('tables_ttl');
    await createTable(shared.dynamodb, { name, partitionKey: 'pk', ttlAttribute: 'expiresAt' });
    try {
      const { TimeToLiveDescription } = await shared.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
      expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    } finally {
      await deleteTable(shared.dynamodb, name);
    }
  });
});
