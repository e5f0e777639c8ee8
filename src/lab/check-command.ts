/** @module `racesafe check <module>`: loads the user's check definition, runs it over seeds, reports, sets the exit code. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RacesafeError } from '../errors.js';
import type { EngineName } from '../testing/dynamodb-engine.js';
import { checkDefinitionFrom, runCheck } from './check.js';
import { seedsFrom, startTarget } from './command.js';
import { parseCommandArgs } from './command-args.js';

export const checkHelp = `racesafe check: race-test your own handler against a local DynamoDB

Usage: racesafe check <module> [options]

The module default-exports defineCheck({ tables, handler, events, invariant? }) from 'racesafe/testing'.
Each seed runs the events once serially and in order (the reference), then again with concurrent
invocations, duplicates, reordering and lost responses under a seeded interleaving, and checks the
invariant (default: the final state equals the reference). TypeScript modules need tsx: npx tsx.

Options:
  --runs <n>          seeds 1..n (default: 20)
  --seed <n>          replay exactly one seed
  --engine <name>     auto | dynamodb-local | dynalite (default: auto)
  --endpoint <url>    use this DynamoDB endpoint instead of starting an engine
  --json              print the result as JSON on stdout
  -h, --help          show this help

Exit code: 0 when no seed broke the invariant, 1 when one did, 2 on bad usage or a bad module.`;

export async function runCheckCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('check', checkHelp, argv, options, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(`racesafe check: give exactly one module\n\n${checkHelp}`);
    return 2;
  }
  const seeds = seedsFrom(values.seed, values.runs ?? (values.seed === undefined ? '20' : undefined));
  if (typeof seeds === 'string') {
    console.error(`racesafe check: ${seeds}`);
    return 2;
  }
  let definition: ReturnType<typeof checkDefinitionFrom>;
  try {
    definition = checkDefinitionFrom(await import(pathToFileURL(resolve(positionals[0] as string)).href));
  } catch (error) {
    const why = error instanceof RacesafeError ? error.message : `cannot load ${positionals[0]}: ${String(error)}`;
    console.error(`racesafe check: ${why}`);
    return 2;
  }
  const target = await startTarget((values.engine ?? 'auto') as EngineName, values.endpoint, []);
  try {
    process.stderr.write(`racesafe check ${positionals[0]} on ${target.name} (${target.endpoint})\n`);
    const summary = await runCheck(target, definition, seeds, (seed, anomalies) =>
      process.stderr.write(`  seed ${seed}: ${anomalies.length === 0 ? 'ok' : `${anomalies.length} anomalies`}\n`),
    );
    if (values.json) {
      console.log(JSON.stringify({ module: positionals[0], engine: target.name, seeds, ...summary }, null, 2));
    } else if (summary.anomalies === 0) {
      console.log(`\n${summary.runs} seeds, no anomaly: the invariant held under concurrency, duplicates and retries.`);
    } else {
      console.log(
        `\n${summary.anomalies} of ${summary.runs} seeds broke the invariant. First failing seed: ${summary.firstFailingSeed}`,
      );
      for (const line of summary.example) console.log(`  ${line}`);
      console.log(`Replay it: racesafe check ${positionals[0]} --seed ${summary.firstFailingSeed}`);
    }
    return summary.anomalies === 0 ? 0 : 1;
  } finally {
    await target.stop();
  }
}

const options = {
  runs: { type: 'string' },
  seed: { type: 'string' },
  engine: { type: 'string' },
  endpoint: { type: 'string' },
  json: { type: 'boolean' },
} as const;
