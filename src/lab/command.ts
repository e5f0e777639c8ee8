/** @module `racesafe lab`: starts the engines, runs the scenarios, prints the table / JSON / HTML, sets the exit code. */
import { writeFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { probeCapabilities } from '../testing/capabilities.js';
import { type EngineName, localClientConfig, startDynamoDB } from '../testing/dynamodb-engine.js';
import { type KinesisEngine, startKinesis } from '../testing/kinesis-engine.js';
import { parseCommandArgs } from './command-args.js';
import { renderHtml } from './report/html.js';
import { labPassed, toLabJson } from './report/json.js';
import { progressPrinter, renderExamples, renderTable } from './report/terminal.js';
import { type LabTarget, runLab } from './runner.js';
import type { Scenario } from './scenario.js';
import { scenarios as allScenarios } from './scenarios/index.js';

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
  --html <file>       write a self-contained HTML report with charts
  --list              describe each scenario and exit
  -h, --help          show this help

Exit code: 0 when every safe variant had zero anomalies, 1 when one had any, 2 on bad usage.`;

/** Parses argv, runs the lab and returns the exit code. */
export async function runLabCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('lab', labHelp, argv, options);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.list) {
    for (const scenario of allScenarios) console.log(`${scenario.name.padEnd(22)} ${scenario.summary}`);
    return 0;
  }
  const selected = selectScenarios(values.scenario ?? []);
  if (typeof selected === 'string') {
    console.error(`racesafe lab: ${selected}`);
    return 2;
  }
  const seeds = seedsFrom(values.seed, values.runs);
  if (typeof seeds === 'string') {
    console.error(`racesafe lab: ${seeds}`);
    return 2;
  }
  const engine = values.engine ?? 'auto';
  if (!['auto', 'dynamodb-local', 'dynalite'].includes(engine)) {
    console.error(`racesafe lab: --engine must be auto, dynamodb-local or dynalite (got '${engine}')`);
    return 2;
  }

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const target = await startTarget(engine as EngineName, values.endpoint, selected);
  try {
    log(`racesafe lab on ${target.name} (${target.endpoint}), seeds ${describeSeeds(seeds)}`);
    const summaries = await runLab(target, { scenarios: selected, seeds, onProgress: progressPrinter() });
    const report = toLabJson(target.name, seeds, summaries);
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(`\n${renderTable(summaries)}`);
      const examples = renderExamples(summaries);
      if (examples) console.log(`\nFirst failing run of each variant:\n${examples}`);
      console.log(
        labPassed(summaries)
          ? '\nEvery safe variant held its invariant. Replay any naive failure with --seed <n>.'
          : '\nA safe variant let an anomaly through: this is a racesafe bug. Replay it with --seed <n>.',
      );
    }
    if (values.html) {
      await writeFile(values.html, renderHtml(report, selected));
      log(`HTML report: ${values.html}`);
    }
    return labPassed(summaries) ? 0 : 1;
  } finally {
    await target.stop();
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

export async function startTarget(
  engine: EngineName,
  endpoint: string | undefined,
  selected: readonly Scenario[],
): Promise<LabTarget & { stop(): Promise<void> }> {
  const needsKinesis = selected.some((scenario) => scenario.requires.includes('kinesis'));
  const kinesis: KinesisEngine | undefined = needsKinesis ? await startKinesis() : undefined;
  if (endpoint !== undefined) {
    const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint });
    const streams = new DynamoDBStreamsClient({ ...localClientConfig, endpoint });
    const capabilities = await probeCapabilities(dynamodb);
    dynamodb.destroy();
    return {
      name: 'endpoint',
      endpoint,
      capabilities,
      streams,
      kinesis,
      async stop() {
        streams.destroy();
        await kinesis?.stop();
      },
    };
  }
  const db = await startDynamoDB({ engine });
  return {
    name: db.engine,
    endpoint: db.endpoint,
    capabilities: db.capabilities,
    streams: db.streams,
    kinesis,
    async stop() {
      await db.stop();
      await kinesis?.stop();
    },
  };
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
