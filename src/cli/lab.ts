/** @module `racesafe lab`: starts the engines, runs the scenarios, prints the table / JSON / HTML, sets the exit code. */
import { stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { type LabProgress, runLab } from '../lab/runner.js';
import type { Scenario } from '../lab/scenario.js';
import { scenarios as allScenarios } from '../lab/scenarios/index.js';
import { endpointProblem, type LabTargetHandle, startTarget, TargetUnreachable } from '../lab/target.js';
import type { EngineName } from '../testing/dynamodb-engine.js';
import { parseCommandArgs } from './args.js';
import { onInterrupt } from './interrupt.js';
import { invocationPrefix, replayCommand } from './replay.js';
import { renderHtml } from './report/html.js';
import { labPassed, toLabJson } from './report/json.js';
import { progressPrinter, renderFailures, renderMeasurements, renderTable } from './report/terminal.js';

/** Seeds per variant when neither --runs nor --seed is given: enough to expose each race, under 2 minutes on 2 cores. */
export const defaultRuns = 12;

export const labHelp = `racesafe lab: run every race story naive and safe against a local DynamoDB and check its invariant

Usage: racesafe lab [options]

Options:
  --engine <name>     auto | dynamodb-local | dynalite (default: auto = DynamoDB Local when Java is found)
  --endpoint <url>    use this DynamoDB endpoint instead of starting an engine
  --scenario <name>   run only this scenario (repeatable; see --list)
  --runs <n>          seeds to try per variant, 1..n (default: ${defaultRuns})
  --seed <n>          replay exactly one seed
  --json              print the result as JSON on stdout (progress goes to stderr)
  --html <file>       write a self-contained HTML report (the folder must exist)
  --list              describe each scenario and exit
  -h, --help          show this help

Exit code: 0 when every safe variant had zero anomalies, 1 when one had any, 2 on bad usage
(an unknown option, a bad number, an --endpoint that is not a URL or does not answer), 130 on Ctrl-C.`;

/** Parses argv, runs the lab and returns the exit code. Never throws for a user's mistake. */
export async function runLabCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('lab', labHelp, argv, options);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.list) {
    for (const scenario of allScenarios) console.log(`${scenario.name.padEnd(22)} ${scenario.summary}`);
    return 0;
  }
  const usage = (message: string) => {
    console.error(`racesafe lab: ${message}`);
    return 2;
  };
  const selected = selectScenarios(values.scenario ?? []);
  if (typeof selected === 'string') return usage(selected);
  const seeds = seedsFrom(values.seed, values.runs);
  if (typeof seeds === 'string') return usage(seeds);
  const engine = engineFrom(values.engine);
  if (engine === undefined) {
    return usage(`--engine must be auto, dynamodb-local or dynalite (got '${values.engine}')`);
  }
  const endpointIssue = values.endpoint === undefined ? undefined : endpointProblem(values.endpoint);
  if (endpointIssue) return usage(endpointIssue);
  if (values.html !== undefined) {
    const htmlIssue = await htmlProblem(values.html);
    if (htmlIssue) return usage(htmlIssue);
  }

  const log = (line: string) => process.stderr.write(`${line}\n`);
  let target: LabTargetHandle;
  try {
    target = await startTarget(engine, values.endpoint, selected);
  } catch (error) {
    if (error instanceof TargetUnreachable) return usage(error.message);
    throw error;
  }
  let current: LabProgress | undefined;
  const printProgress = progressPrinter();
  const interrupted = onInterrupt(() =>
    current === undefined
      ? 'racesafe lab: interrupted before the first run; engines stopped.'
      : `racesafe lab: interrupted during ${current.scenario} (${current.variant}) after run ${current.run}/${current.runs}; engines stopped, no report written.`,
  );
  const started = performance.now();
  try {
    log(`racesafe lab on ${target.name} (${target.endpoint}), seeds ${describeSeeds(seeds)}`);
    const summaries = await runLab(target, {
      scenarios: selected,
      seeds,
      onProgress: (progress) => {
        current = progress;
        printProgress(progress);
      },
    });
    const report = toLabJson(target.name, seeds, summaries);
    const replay = (scenario: string, seed: number) =>
      replayCommand(invocationPrefix(), 'lab', ['--scenario', scenario, ...engineArgs(values)], seed);
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`\n${renderTable(summaries)}`);
      const measured = renderMeasurements(summaries);
      if (measured) console.log(`\nMeasured per run (mean over the runs):\n${measured}`);
      const failures = renderFailures(summaries, replay);
      if (failures) console.log(`\nFirst failing run of each variant:\n${failures}`);
      console.log(
        labPassed(summaries)
          ? '\nEvery safe variant held its invariant. Each naive failure above replays with its command.'
          : '\nA safe variant let an anomaly through: this is a racesafe bug. Replay it with the command above.',
      );
    }
    if (values.html) {
      const meta = { version: racesafeVersion(), durationMs: performance.now() - started, replay };
      await writeFile(values.html, renderHtml(report, selected, meta));
      log(`HTML report: ${values.html}`);
    }
    return labPassed(summaries) ? 0 : 1;
  } finally {
    interrupted.dispose();
    await target.stop();
  }
}

/** The engine choice, or undefined when it is not one. */
export function engineFrom(engine: string | undefined): EngineName | undefined {
  const name = engine ?? 'auto';
  return (['auto', 'dynamodb-local', 'dynalite'] as const).find((known) => known === name);
}

/** `--html` must name a file in a folder that exists, so the report is not lost after the run. */
async function htmlProblem(file: string): Promise<string | undefined> {
  const folder = dirname(resolve(file));
  try {
    if (!(await stat(folder)).isDirectory()) return `--html: ${dirname(file)} is not a folder`;
  } catch {
    return `--html: the folder ${dirname(file)} does not exist (create it first)`;
  }
  return undefined;
}

function engineArgs(values: { engine?: string; endpoint?: string }): string[] {
  if (values.endpoint !== undefined) return ['--endpoint', values.endpoint];
  return values.engine !== undefined ? ['--engine', values.engine] : [];
}

/** racesafe's version, from its package.json (two folders up from src/cli/ and from dist/cli/). */
export function racesafeVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function selectScenarios(names: readonly string[]): readonly Scenario[] | string {
  if (names.length === 0) return allScenarios;
  const wanted = names.flatMap((name) => name.split(','));
  const unknown = wanted.filter((name) => !allScenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    return `unknown scenario ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.name).join(', ')}`;
  }
  return allScenarios.filter((scenario) => wanted.includes(scenario.name));
}

export function seedsFrom(seed: string | undefined, runs: string | undefined): number[] | string {
  if (seed !== undefined) {
    if (runs !== undefined) return '--seed replays one seed; it cannot be combined with --runs';
    const n = Number(seed);
    return Number.isSafeInteger(n) && n >= 0 ? [n] : `--seed must be a whole number >= 0 (got '${seed}')`;
  }
  const count = runs === undefined ? defaultRuns : Number(runs);
  if (!Number.isSafeInteger(count) || count < 1) return `--runs must be a whole number >= 1 (got '${runs}')`;
  return Array.from({ length: count }, (_, i) => i + 1);
}

function describeSeeds(seeds: readonly number[]): string {
  return seeds.length === 1 ? String(seeds[0]) : `${seeds[0]}..${seeds.at(-1)}`;
}

const options = {
  engine: { type: 'string' },
  endpoint: { type: 'string' },
  scenario: { type: 'string', multiple: true },
  runs: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  list: { type: 'boolean' },
} as const;
