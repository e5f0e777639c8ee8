/** @module `racesafe check` on an unmodified Lambda module: a serial reference run and seeded races, each in fresh environments on fresh tables. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableSnapshot } from '../../testing/check-definition.js';
import { localClientConfig } from '../../testing/dynamodb-engine.js';
import type { GatingProxy, ProxyFaults, TimelineStep } from '../../testing/gating-proxy.js';
import { seededRandom } from '../../testing/random.js';
import { createTable, deleteTable, uniqueTableName } from '../../testing/tables.js';
import { compareSnapshots, snapshotTables } from '../check.js';
import { type Environment, type InvocationResult, ModuleLoadError, startEnvironment } from './environments.js';

/** A table the module reads from its environment: `--table STATE_TABLE:deviceId[:sortKey]`. */
export interface ModuleTable {
  /** The environment variable that holds the table's name. */
  readonly env: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/** What to check: the module as it is, byte for byte. */
export interface ModuleCheck {
  /** Absolute path of the module. */
  readonly modulePath: string;
  /** @default 'handler' */
  readonly exportName?: string;
  readonly tables: readonly ModuleTable[];
  /** The events in their true order. */
  readonly events: readonly unknown[];
  /** Concurrent Lambda environments in a race. @default 4 */
  readonly concurrency?: number;
  /** Chance that an event is delivered twice. @default 0.3 */
  readonly duplicates?: number;
  /** @default { lostResponse: 0.1, throttling: 0.05, latency: 0.2, crash: 0.05 } */
  readonly faults?: ProxyFaults;
  /** Attributes the invariant ignores (timestamps, request ids). @default none */
  readonly ignoreAttributes?: readonly string[];
}

/** One race, fully determined: the seed, which events, whether duplicates and which faults are on, how many environments. */
export interface RacePlan {
  readonly seed: number;
  /** Indices into {@link ModuleCheck.events}, in order. */
  readonly events: readonly number[];
  readonly duplicates: boolean;
  readonly faults: Required<Pick<ProxyFaults, 'lostResponse' | 'throttling' | 'latency' | 'crash'>>;
  readonly concurrency: number;
}

export interface RaceResult {
  readonly plan: RacePlan;
  readonly anomalies: readonly string[];
  readonly steps: readonly TimelineStep[];
  /** Invocations started, one line each (`λ1 event 3 (duplicate)`), in the order they started. */
  readonly invocations: number;
  readonly deterministic: boolean;
}

/** The handler threw during the serial, in-order, fault-free reference run: the module is broken, not racy. */
export class ReferenceRunError extends Error {
  override readonly name = 'ReferenceRunError';
  constructor(
    readonly eventIndex: number,
    override readonly cause: { readonly name: string; readonly message: string },
  ) {
    super(`the handler threw during the serial reference run, on event ${eventIndex}: ${cause.name}: ${cause.message}`);
  }
}

export { ModuleLoadError };

/** Deliveries of one event before the check calls it failed (Lambda retries a failed asynchronous invocation twice). */
const maxDeliveryAttempts = 3;

export const defaultFaults: RacePlan['faults'] = { lostResponse: 0.1, throttling: 0.05, latency: 0.2, crash: 0.05 };

/** The plan of a seed before shrinking: every event, duplicates and faults on. */
export function initialPlan(check: ModuleCheck, seed: number): RacePlan {
  return {
    seed,
    events: check.events.map((_, index) => index),
    duplicates: (check.duplicates ?? 0.3) > 0,
    faults: { ...defaultFaults, ...check.faults },
    concurrency: Math.max(1, check.concurrency ?? 4),
  };
}

/** One delivery: an event (by index) and whether it is the second copy. */
export interface Delivery {
  readonly event: number;
  readonly copy: 1 | 2;
}

/**
 * The deliveries of a plan, in roughly their true order (each moved by up to {@link reorderWindow} places, a duplicate
 * up to twice as far behind its original): asynchronous invocations and SQS deliver about in order, concurrently,
 * not in a random permutation. Each event's draws come from its own stream
 * (seed, event), so removing an event does not change what the others drew.
 */
export function planDeliveries(plan: RacePlan, duplicateRate: number): Delivery[] {
  const keyed: { delivery: Delivery; order: number }[] = [];
  for (const [position, event] of plan.events.entries()) {
    const random = seededRandom((plan.seed * 1_000_003 + event * 7919 + 1) >>> 0);
    keyed.push({ delivery: { event, copy: 1 }, order: position + random() * reorderWindow });
    const duplicate = random() < duplicateRate;
    const order = position + random() * reorderWindow * 2;
    if (plan.duplicates && duplicate) keyed.push({ delivery: { event, copy: 2 }, order });
  }
  return keyed.sort((a, b) => a.order - b.order).map((entry) => entry.delivery);
}

/** How far (in events) a delivery may move from its true position. */
const reorderWindow = 3;

/** The engine and the proxy in front of it, for a whole check. */
export interface CheckTarget {
  readonly endpoint: string;
  readonly proxy: GatingProxy;
}

/**
 * Runs the module's events once, in order, one invocation at a time, with nothing broken, in a fresh environment on
 * fresh tables: the state every race must end in. Throws {@link ReferenceRunError} or {@link ModuleLoadError}.
 */
export async function referenceRun(
  target: CheckTarget,
  check: ModuleCheck,
  events: readonly number[],
): Promise<TableSnapshot> {
  return withTables(target, check, async (env, read) => {
    const environment = await startEnvironment({
      modulePath: check.modulePath,
      exportName: check.exportName ?? 'handler',
      env: { ...awsEnvironment(target.endpoint, localClientConfig.credentials), ...env },
    });
    try {
      for (const index of events) {
        const result = await environment.invoke(check.events[index], `reference-${index}`);
        if (result.status === 'error') throw new ReferenceRunError(index, result.error);
        if (result.status === 'died') {
          throw new ReferenceRunError(index, { name: 'ProcessExit', message: 'the environment process ended' });
        }
      }
    } finally {
      environment.kill();
    }
    return read();
  });
}

/** One race: fresh tables, fresh environments whose every request goes through the proxy's gate. */
export async function race(
  target: CheckTarget,
  check: ModuleCheck,
  plan: RacePlan,
  reference: TableSnapshot,
): Promise<RaceResult> {
  const deliveries = planDeliveries(plan, check.duplicates ?? 0.3);
  // Like Lambda, an environment that is free takes the next delivery; the gate decides which one is free first.
  const lanes = Array.from({ length: Math.max(1, Math.min(plan.concurrency, deliveries.length)) }, (_, lane) => lane);
  let next = 0;
  return withTables(target, check, async (env, read) => {
    const start = (lane: number) =>
      startEnvironment({
        modulePath: check.modulePath,
        exportName: check.exportName ?? 'handler',
        env: { ...awsEnvironment(target.proxy.endpoint, target.proxy.credentialsFor(lane)), ...env },
      });
    const environments: (Environment | undefined)[] = await Promise.all(lanes.map((_, lane) => start(lane)));
    const crashed = new Set<number>();
    const gate = target.proxy.openRace({
      seed: plan.seed,
      workers: lanes.length,
      faults: plan.faults,
      onCrash: (lane) => {
        crashed.add(lane);
        environments[lane]?.kill();
      },
    });
    const failures: string[] = [];
    let invocations = 0;
    try {
      await Promise.all(
        lanes.map(async (lane) => {
          for (let delivery = deliveries[next++]; delivery !== undefined; delivery = deliveries[next++]) {
            const label = `event ${delivery.event}${delivery.copy === 2 ? ' (duplicate)' : ''}`;
            for (let attempt = 1; attempt <= maxDeliveryAttempts; attempt++) {
              let environment = environments[lane];
              if (environment === undefined) {
                // Lambda starts a fresh environment after one died: a cold start, module scope and all.
                environment = await start(lane);
                environments[lane] = environment;
              }
              invocations += 1;
              gate.invocationStarted(lane, attempt === 1 ? label : `${label}, retry ${attempt - 1}`);
              const result: InvocationResult = await environment.invoke(
                check.events[delivery.event],
                `lane${lane}-${delivery.event}-${delivery.copy}-${attempt}`,
              );
              gate.invocationEnded(lane);
              if (result.status === 'ok') break;
              if (result.status === 'died') {
                environment.kill();
                environments[lane] = undefined;
                if (!crashed.has(lane)) failures.push(`${label}: the environment process ended on its own`);
                crashed.delete(lane);
              }
              if (attempt === maxDeliveryAttempts) {
                const why = result.status === 'error' ? `${result.error.name}: ${result.error.message}` : 'crashed';
                failures.push(`${label} failed ${maxDeliveryAttempts} times (${why})`);
              }
            }
          }
          gate.workerSettled(lane);
        }),
      );
      await gate.finished;
    } finally {
      gate.close();
      for (const environment of environments) environment?.kill();
    }
    const final = await read();
    return {
      plan,
      anomalies: [...failures, ...compareSnapshots(final, reference)],
      // Fresh tables get fresh names: the timeline names each by the environment variable the module reads.
      steps: gate.steps.map((step) => ({ ...step, table: envOf(env, step.table) })),
      invocations,
      deterministic: gate.deterministic,
    };
  });
}

function envOf(env: Readonly<Record<string, string>>, table: string | undefined): string | undefined {
  return Object.entries(env).find(([, name]) => name === table)?.[0] ?? table;
}

/** What the module's AWS SDK reads from its environment: our endpoint, dummy credentials, a region. */
export function awsEnvironment(
  endpoint: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: localClientConfig.region,
    AWS_DEFAULT_REGION: localClientConfig.region,
    // No shared config or credential files: nothing of the user's real account can be picked up.
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Creates a fresh table per `--table`, runs `body` with the environment variables naming them, deletes them. */
async function withTables<T>(
  target: CheckTarget,
  check: ModuleCheck,
  body: (env: Record<string, string>, read: () => Promise<TableSnapshot>) => Promise<T>,
): Promise<T> {
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: target.endpoint });
  const client = DynamoDBDocumentClient.from(dynamodb);
  const names: Record<string, string> = {};
  const keys: Record<string, { partitionKey: string; sortKey?: string }> = {};
  try {
    for (const table of check.tables) {
      const name = uniqueTableName(`check_${table.env.toLowerCase()}`);
      await createTable(dynamodb, {
        name,
        partitionKey: table.partitionKey,
        ...(table.sortKey ? { sortKey: table.sortKey } : {}),
      });
      names[table.env] = name;
      keys[table.env] = { partitionKey: table.partitionKey, ...(table.sortKey ? { sortKey: table.sortKey } : {}) };
    }
    return await body({ ...names }, () => snapshotTables(client, names, keys, check.ignoreAttributes ?? []));
  } finally {
    await Promise.all(Object.values(names).map((name) => deleteTable(dynamodb, name).catch(() => undefined)));
    dynamodb.destroy();
  }
}
