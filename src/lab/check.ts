/** @module `racesafe check`: drives a user's handler with concurrency, duplicates, reordering and lost responses over seeds. */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { invalidInput } from '../errors.js';
import type { CheckDefinition, CheckEnv, TableSnapshot } from '../testing/check-definition.js';
import { lambdaContext } from '../testing/event-source/lambda-events.js';
import { isSimulatedCrash } from '../testing/faults.js';
import { seededRandom, shuffled } from '../testing/random.js';
import { openHarness } from './harness.js';
import type { LabTarget } from './runner.js';

/** Deliveries of one event before the check calls it failed (Lambda retries a failed invocation). */
const maxDeliveryAttempts = 3;

export interface CheckSummary {
  readonly runs: number;
  readonly anomalies: number;
  readonly firstFailingSeed: number | null;
  readonly example: readonly string[];
}

/** Validates what a user's module exported: a `defineCheck` default export or the same fields as named exports. */
export function checkDefinitionFrom(module: Record<string, unknown>): CheckDefinition<unknown> {
  const candidate = (module.default ?? module) as Partial<CheckDefinition<unknown>>;
  if (typeof candidate !== 'object' || candidate === null)
    throw invalidInput('module', 'must export a check definition');
  if (typeof candidate.handler !== 'function') {
    throw invalidInput(
      'handler',
      'must be a function (env) => handler: it receives the client to send requests through',
    );
  }
  if (!Array.isArray(candidate.events) && typeof candidate.events !== 'function') {
    throw invalidInput('events', 'must be a list of events or a function (random) => events');
  }
  if (typeof candidate.tables !== 'object' || candidate.tables === null || Object.keys(candidate.tables).length === 0) {
    throw invalidInput('tables', 'must name at least one table: { name: { partitionKey } }');
  }
  if (candidate.invariant !== undefined && typeof candidate.invariant !== 'function') {
    throw invalidInput('invariant', 'must be a function when given');
  }
  return candidate as CheckDefinition<unknown>;
}

/** Runs the check over the seeds. */
export async function runCheck(
  target: LabTarget,
  definition: CheckDefinition<unknown>,
  seeds: readonly number[],
  onRun?: (seed: number, anomalies: readonly string[]) => void,
): Promise<CheckSummary> {
  let anomalous = 0;
  let firstFailingSeed: number | null = null;
  let example: readonly string[] = [];
  for (const seed of seeds) {
    const anomalies = await checkOnce(target, definition, seed);
    onRun?.(seed, anomalies);
    if (anomalies.length > 0) {
      anomalous += 1;
      if (firstFailingSeed === null) {
        firstFailingSeed = seed;
        example = anomalies.slice(0, 10);
      }
    }
  }
  return { runs: seeds.length, anomalies: anomalous, firstFailingSeed, example };
}

/** One seed: a serial, in-order reference run, then the same events delivered concurrently with faults. */
export async function checkOnce(
  target: LabTarget,
  definition: CheckDefinition<unknown>,
  seed: number,
): Promise<string[]> {
  const random = seededRandom(seed);
  const events = typeof definition.events === 'function' ? [...definition.events(random)] : [...definition.events];
  const harness = openHarness({
    endpoint: target.endpoint,
    seed,
    faults: { lostResponse: { probability: definition.lostResponses ?? 0.1 } },
  });
  const { client: gatedClient, setupClient: plainClient } = harness;
  const tablesFor = async () => {
    const names: Record<string, string> = {};
    for (const [logical, keys] of Object.entries(definition.tables)) {
      const created = await harness.table(`check_${logical.replaceAll(/[^A-Za-z0-9_.-]/g, '_')}`, {
        partitionKey: keys.partitionKey,
        ...(keys.sortKey ? { sortKey: keys.sortKey } : {}),
      });
      names[logical] = created.name;
    }
    return names;
  };
  try {
    // The reference: every event once, in order, one at a time, nothing broken.
    const serialEnv: CheckEnv = { client: plainClient, tables: await tablesFor() };
    const serialHandler = definition.handler(serialEnv);
    for (const [index, event] of events.entries()) await serialHandler(event, lambdaContext(`serial-${index}`, 60_000));
    const serial = await snapshot(plainClient, serialEnv.tables, definition);

    // The race: duplicates, reordering, concurrent invocations, lost responses, a seeded interleaving.
    const env: CheckEnv = { client: gatedClient, tables: await tablesFor() };
    const handler = definition.handler(env);
    const duplicates = definition.duplicates ?? 0.3;
    const deliveries = shuffled(
      random,
      events.flatMap((event, index) =>
        random() < duplicates
          ? [
              { event, index },
              { event, index },
            ]
          : [{ event, index }],
      ),
    );
    const concurrency = Math.max(1, definition.concurrency ?? 8);
    const lanes = Array.from({ length: concurrency }, (_, lane) =>
      deliveries.filter((_, i) => i % concurrency === lane),
    );
    const failures: string[] = [];
    const run = await harness.race(
      lanes.map((lane, worker) => async () => {
        for (const [n, delivery] of lane.entries()) {
          await deliver(handler, delivery.event, `w${worker}-${n}`, (error) =>
            failures.push(`event ${delivery.index} failed ${maxDeliveryAttempts} times: ${message(error)}`),
          );
        }
      }),
    );
    for (const result of run.results) {
      if (result.status === 'rejected' && !isSimulatedCrash(result.reason))
        failures.push(`worker failed: ${message(result.reason)}`);
    }
    const final = await snapshot(plainClient, env.tables, definition);
    const verdict = definition.invariant
      ? await definition.invariant({ final, serial, events })
      : compareSnapshots(final, serial);
    return [...failures, ...verdict];
  } finally {
    await harness.close();
  }
}

/** Delivers one event as Lambda would: retried after a failed invocation, at most {@link maxDeliveryAttempts} times. */
async function deliver(
  handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => unknown,
  event: unknown,
  requestId: string,
  onGiveUp: (error: unknown) => void,
): Promise<void> {
  for (let attempt = 1; attempt <= maxDeliveryAttempts; attempt++) {
    try {
      await handler(event, lambdaContext(`${requestId}-${attempt}`, 60_000));
      return;
    } catch (error) {
      if (isSimulatedCrash(error)) throw error;
      if (attempt === maxDeliveryAttempts) onGiveUp(error);
    }
  }
}

/** Every item of every table, without racesafe's bookkeeping and the ignored attributes, sorted by key. */
function snapshot(
  client: DynamoDBDocumentClient,
  tables: Readonly<Record<string, string>>,
  definition: CheckDefinition<unknown>,
): Promise<TableSnapshot> {
  return snapshotTables(client, tables, definition.tables, definition.ignoreAttributes ?? []);
}

/** Every item of each table (logical name → real name), racesafe's token attributes and `ignored` left out, by key. */
export async function snapshotTables(
  client: DynamoDBDocumentClient,
  tables: Readonly<Record<string, string>>,
  keys: Readonly<Record<string, { readonly partitionKey: string; readonly sortKey?: string }>>,
  ignoredAttributes: readonly string[],
): Promise<TableSnapshot> {
  const ignored = new Set(ignoredAttributes);
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [logical, name] of Object.entries(tables)) {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: name, ConsistentRead: true, ExclusiveStartKey }));
      for (const item of page.Items ?? []) {
        items.push(
          Object.fromEntries(
            Object.entries(item).filter(([attribute]) => !/^_rsToken\d*$/.test(attribute) && !ignored.has(attribute)),
          ),
        );
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const schema = keys[logical];
    const keyOf = (item: Record<string, unknown>) =>
      JSON.stringify([item[schema?.partitionKey ?? ''], item[schema?.sortKey ?? '']]);
    out[logical] = items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }
  return out;
}

/** The default invariant: the final state equals the serial, in-order one, item by item. */
export function compareSnapshots(final: TableSnapshot, serial: TableSnapshot): string[] {
  const anomalies: string[] = [];
  for (const [table, expected] of Object.entries(serial)) {
    const actual = final[table] ?? [];
    const render = (items: readonly Record<string, unknown>[]) => new Map(items.map((item) => [stable(item), item]));
    const want = render(expected);
    const got = render(actual);
    for (const [text] of want) if (!got.has(text)) anomalies.push(`${table}: expected ${text}`);
    for (const [text] of got) if (!want.has(text)) anomalies.push(`${table}: unexpected ${text}`);
  }
  return anomalies;
}

function stable(item: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
