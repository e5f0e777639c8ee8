/** @module `racesafe check`: a Lambda module as it is (`--table`, `--events`) or a `defineCheck` file, over seeds; prints the minimal failing timeline; exit codes. */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RacesafeError } from '../errors.js';
import { checkDefinitionFrom, runCheck } from '../lab/check.js';
import { checkModule, type ModuleCheckSummary } from '../lab/module-check/check-module.js';
import { ModuleLoadError, type ModuleTable, ReferenceRunError } from '../lab/module-check/run.js';
import { startTarget, TargetUnreachable } from '../lab/target.js';
import type { EngineName } from '../testing/dynamodb-engine.js';
import { startGatingProxy } from '../testing/gating-proxy.js';
import { parseCommandArgs } from './args.js';
import { onInterrupt } from './interrupt.js';
import { engineFrom, seedsFrom } from './lab.js';
import { invocationPrefix, replayCommand } from './replay.js';
import { formatTimeline } from './timeline.js';

export const checkHelp = `racesafe check: race-test your own Lambda handler against a local DynamoDB

Usage: racesafe check <handler module> --table ENV:partitionKey[:sortKey] --events <file> [options]
       racesafe check <check file>      (a module that default-exports defineCheck({ ... }))

The module is checked as it is: each run starts fresh Lambda environments (one process each, so module-scope
clients and state start over) whose AWS SDK clients point at a local endpoint in front of DynamoDB
(AWS_ENDPOINT_URL_DYNAMODB, dummy credentials and region). Every request waits at a seeded gate, so a
failing seed replays exactly; responses are lost after commit, requests throttled and delayed, and an
environment may crash after a write (Lambda retries the event in a new one). Each seed runs the events
once, serially and in order (the reference), then concurrently with duplicates and near-order delivery,
and the final tables must equal the reference. A failing seed is shrunk to the fewest events, faults and
environments that still fail, and printed as a timeline. TypeScript modules load as they are.

Options:
  --table <ENV:pk[:sk]>  a table the module names in environment variable ENV (repeatable; string keys)
  --events <file>        a JSON array of events, or a module exporting them (default export or 'events')
  --export <name>        the handler's export (default: handler)
  --concurrency <n>      Lambda environments racing (default: 4)
  --runs <n>             seeds 1..n (default: 10)
  --seed <n>             replay exactly one seed
  --no-shrink            report the failing seed as it ran, without shrinking it
  --engine <name>        auto | dynamodb-local | dynalite (default: auto)
  --endpoint <url>       use this DynamoDB endpoint instead of starting an engine
  --json                 print the result as JSON on stdout (progress goes to stderr)
  -h, --help             show this help

Exit code: 0 when no seed broke the invariant, 1 when one did, 2 on bad usage or a module that cannot run.`;

const options = {
  table: { type: 'string', multiple: true },
  events: { type: 'string' },
  export: { type: 'string' },
  concurrency: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  'no-shrink': { type: 'boolean' },
  engine: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A usage error: printed as one line, exit code 2. */
class UsageError extends Error {}

/** Parses argv, runs the check, prints, returns the exit code. Never throws for a user's mistake. */
export async function runCheckCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('check', checkHelp, argv, options, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  try {
    if (positionals.length !== 1) throw new UsageError('give exactly one module (see racesafe check --help)');
    const file = positionals[0] as string;
    const seeds = seedsFrom(values.seed, values.runs ?? (values.seed === undefined ? '10' : undefined));
    if (typeof seeds === 'string') throw new UsageError(seeds);
    const engine = engineFrom(values.engine);
    if (engine === undefined)
      throw new UsageError(`--engine must be auto, dynamodb-local or dynalite (got '${values.engine}')`);
    const modulePath = resolve(file);
    if (!(await isFile(modulePath))) throw new UsageError(`cannot find the module ${file}`);
    if (values.table !== undefined || values.events !== undefined) {
      return await checkLambdaModule(argv, file, modulePath, seeds, engine, values);
    }
    return await checkDefinitionFile(argv, file, modulePath, seeds, engine, values);
  } catch (error) {
    if (error instanceof UsageError || error instanceof TargetUnreachable) {
      console.error(`racesafe check: ${error.message}`);
      return 2;
    }
    if (error instanceof ModuleLoadError || error instanceof ReferenceRunError) {
      console.error(`racesafe check: ${positionals[0]}: ${error.message}`);
      return 2;
    }
    if (error instanceof RacesafeError) {
      console.error(`racesafe check: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

type Values = {
  table?: string[];
  events?: string;
  export?: string;
  concurrency?: string;
  'no-shrink'?: boolean;
  endpoint?: string;
  json?: boolean;
};

async function checkLambdaModule(
  argv: readonly string[],
  file: string,
  modulePath: string,
  seeds: readonly number[],
  engine: EngineName,
  values: Values,
): Promise<number> {
  if (values.table === undefined || values.table.length === 0) {
    throw new UsageError('--table ENV:partitionKey[:sortKey] is required with --events: which tables the module uses');
  }
  if (values.events === undefined) throw new UsageError('--events <file> is required with --table: the events to send');
  const tables = values.table.map(parseTableSpec);
  const duplicate = tables.find((table, index) => tables.findIndex((other) => other.env === table.env) !== index);
  if (duplicate) throw new UsageError(`--table ${duplicate.env} is given twice`);
  const events = await loadEvents(values.events);
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!(Number.isSafeInteger(concurrency) && concurrency >= 1 && concurrency <= 32)) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 32 (got '${values.concurrency}')`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const target = await startTarget(engine, values.endpoint, []);
  const keyAttributes = [...new Set(tables.flatMap((t) => [t.partitionKey, ...(t.sortKey ? [t.sortKey] : [])]))];
  const proxy = await startGatingProxy({ target: target.endpoint, keyAttributes });
  const started = performance.now();
  const interrupted = onInterrupt(() => `racesafe check: interrupted; engines stopped. ${file} was not fully checked.`);
  try {
    log(`racesafe check ${file} on ${target.name} (${target.endpoint}), seeds ${describeSeeds(seeds)}`);
    const summary = await checkModule(
      { endpoint: target.endpoint, proxy },
      { modulePath, exportName: values.export ?? 'handler', tables, events, concurrency },
      seeds,
      {
        shrink: values['no-shrink'] !== true,
        onSeed: (seed, result) =>
          log(`  seed ${seed}: ${result.anomalies.length === 0 ? 'ok' : `${result.anomalies.length} anomalies`}`),
        onShrinkTrial: (trial, failing) => log(`  shrinking: race ${trial} ${failing ? 'still fails' : 'passes'}`),
      },
    );
    const replay = (seed: number) => replayCommand(invocationPrefix(), 'check', argv, seed);
    if (values.json) {
      console.log(
        JSON.stringify(moduleJson(file, target.name, seeds, summary, replay, performance.now() - started), null, 2),
      );
    } else {
      console.log(`\n${renderModuleSummary(summary, replay, tables)}`);
    }
    return summary.failingSeeds.length === 0 ? 0 : 1;
  } finally {
    interrupted.dispose();
    await proxy.stop();
    await target.stop();
  }
}

/** The terminal report of a module check. */
export function renderModuleSummary(
  summary: ModuleCheckSummary,
  replay: (seed: number) => string,
  tables: readonly ModuleTable[] = [],
): string {
  // Fresh tables are named check_<env>_<unique>: show the environment variable the module knows them by.
  const tableName = (name: string) =>
    tables.find((table) => name.startsWith(`check_${table.env.toLowerCase()}_`))?.env ?? name;
  const lines: string[] = [];
  const { firstFailure } = summary;
  if (firstFailure === undefined) {
    lines.push(
      `${summary.runs} seeds, no anomaly: the final state equalled the serial, in-order run under concurrency, duplicates, lost responses, throttling and crashes.`,
    );
  } else {
    lines.push(
      `${summary.failingSeeds.length} of ${summary.runs} seeds broke the invariant (the final state equals the serial, in-order run): seeds ${summary.failingSeeds.join(', ')}.`,
    );
    const { minimal } = firstFailure;
    const { plan } = minimal;
    const faultsOn = Object.entries(plan.faults)
      .filter(([, p]) => p > 0)
      .map(([name]) => name);
    lines.push('');
    lines.push(
      `Seed ${firstFailure.seed}, shrunk in ${firstFailure.shrinkTrials} races to ${plan.events.length} event(s) (${plan.events.join(', ')}), ` +
        `${Math.min(plan.concurrency, plan.events.length * (plan.duplicates ? 2 : 1))} environment(s), duplicates ${plan.duplicates ? 'on' : 'off'}, ` +
        `faults: ${faultsOn.length === 0 ? 'none' : faultsOn.join(', ')}; ${minimal.steps.length} requests:`,
    );
    for (const line of formatTimeline(minimal.steps, { tableName })) lines.push(`  ${line}`);
    lines.push('');
    lines.push('What broke:');
    for (const anomaly of minimal.anomalies.slice(0, 10)) lines.push(`  ${anomaly}`);
    if (summary.nondeterministicSeeds.length > 0) {
      lines.push(
        `(seeds ${summary.nondeterministicSeeds.join(', ')} waited on something outside the gate: they may not replay exactly)`,
      );
    }
    lines.push('');
    lines.push(`Replay it: ${replay(firstFailure.seed)}`);
  }
  return lines.join('\n');
}

function moduleJson(
  file: string,
  engine: string,
  seeds: readonly number[],
  summary: ModuleCheckSummary,
  replay: (seed: number) => string,
  durationMs: number,
) {
  return {
    module: file,
    engine,
    seeds,
    runs: summary.runs,
    anomalies: summary.failingSeeds.length,
    failingSeeds: summary.failingSeeds,
    firstFailingSeed: summary.firstFailure?.seed ?? null,
    nondeterministicSeeds: summary.nondeterministicSeeds,
    durationMs: Math.round(durationMs),
    ...(summary.firstFailure
      ? {
          example: summary.firstFailure.anomalies.slice(0, 10),
          minimal: {
            plan: summary.firstFailure.minimal.plan,
            anomalies: summary.firstFailure.minimal.anomalies,
            timeline: summary.firstFailure.minimal.steps,
            shrinkTrials: summary.firstFailure.shrinkTrials,
          },
          replay: replay(summary.firstFailure.seed),
        }
      : { example: [] }),
  };
}

async function checkDefinitionFile(
  argv: readonly string[],
  file: string,
  modulePath: string,
  seeds: readonly number[],
  engine: EngineName,
  values: Values,
): Promise<number> {
  const loaded = await importModule(modulePath, file);
  const definition = (() => {
    try {
      return checkDefinitionFrom(loaded);
    } catch (error) {
      const candidate = (loaded.default ?? loaded) as Record<string, unknown>;
      const exported = Object.keys(loaded);
      const lambda = exported.find((name) => typeof loaded[name] === 'function' && name !== 'default');
      if (candidate.tables === undefined && lambda !== undefined) {
        throw new UsageError(
          `${file} exports a Lambda handler ('${lambda}'), not a check definition: check it as it is with ` +
            `racesafe check ${file} --table ENV:partitionKey --events events.json${lambda === 'handler' ? '' : ` --export ${lambda}`}` +
            ', or default-export defineCheck({ tables, handler, events })',
        );
      }
      throw error;
    }
  })();
  const target = await startTarget(engine, values.endpoint, []);
  const interrupted = onInterrupt(() => `racesafe check: interrupted; engines stopped. ${file} was not fully checked.`);
  try {
    process.stderr.write(`racesafe check ${file} on ${target.name} (${target.endpoint})\n`);
    const summary = await runCheck(target, definition, seeds, (seed, anomalies) =>
      process.stderr.write(`  seed ${seed}: ${anomalies.length === 0 ? 'ok' : `${anomalies.length} anomalies`}\n`),
    );
    const replay = (seed: number) => replayCommand(invocationPrefix(), 'check', argv, seed);
    if (values.json) {
      console.log(JSON.stringify({ module: file, engine: target.name, seeds, ...summary }, null, 2));
    } else if (summary.anomalies === 0) {
      console.log(`\n${summary.runs} seeds, no anomaly: the invariant held under concurrency, duplicates and retries.`);
    } else {
      console.log(
        `\n${summary.anomalies} of ${summary.runs} seeds broke the invariant. First failing seed: ${summary.firstFailingSeed}`,
      );
      for (const line of summary.example) console.log(`  ${line}`);
      console.log(`Replay it: ${replay(summary.firstFailingSeed as number)}`);
    }
    return summary.anomalies === 0 ? 0 : 1;
  } finally {
    interrupted.dispose();
    await target.stop();
  }
}

/** `STATE_TABLE:deviceId[:sortKey]`. */
export function parseTableSpec(spec: string): ModuleTable {
  const parts = spec.split(':');
  const [env, partitionKey, sortKey] = parts;
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (parts.length < 2 || parts.length > 3 || !env || !partitionKey || (parts.length === 3 && !sortKey)) {
    throw new UsageError(`--table must be ENV:partitionKey[:sortKey] (got '${spec}')`);
  }
  if (!name.test(env)) throw new UsageError(`--table: '${env}' is not an environment variable name`);
  return { env, partitionKey, ...(sortKey ? { sortKey } : {}) };
}

/** A JSON array, or a module whose default export or `events` export is an array (or a function returning one). */
async function loadEvents(file: string): Promise<unknown[]> {
  const path = resolve(file);
  if (!(await isFile(path))) throw new UsageError(`--events: cannot find ${file}`);
  let value: unknown;
  if (extname(path) === '.json') {
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new UsageError(`--events: ${file} is not valid JSON (${(error as Error).message})`);
    }
  } else {
    const loaded = await importModule(path, file);
    value = loaded.default ?? loaded.events;
    if (typeof value === 'function') value = await (value as () => unknown)();
  }
  if (value !== null && typeof value === 'object' && Symbol.iterator in value && !Array.isArray(value)) {
    value = [...(value as Iterable<unknown>)];
  }
  if (!Array.isArray(value)) {
    throw new UsageError(`--events: ${file} must hold an array of events (a JSON array, or a module exporting one)`);
  }
  if (value.length === 0) throw new UsageError(`--events: ${file} holds no events`);
  return value;
}

/** Imports a JavaScript or TypeScript module (tsx compiles TypeScript in memory; no separate tsx run needed). */
async function importModule(path: string, file: string): Promise<Record<string, unknown>> {
  try {
    if (/\.[cm]?tsx?$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(
      `cannot load ${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function describeSeeds(seeds: readonly number[]): string {
  return seeds.length === 1 ? String(seeds[0]) : `${seeds[0]}..${seeds.at(-1)}`;
}
