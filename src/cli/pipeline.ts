/** @module `racesafe pipeline`: starts DynamoDB Local and kinesalite, runs the reference pipeline once, prints its verdict. */

import { type PipelineProgress, type PipelineResult, type PipelineVariant, runPipeline } from '../lab/pipeline/run.js';
import { startDynamoDB } from '../testing/dynamodb-engine.js';
import { hasJava } from '../testing/java.js';
import { startKinesis } from '../testing/kinesis-engine.js';
import { parseCommandArgs } from './args.js';

export const pipelineHelp = `racesafe pipeline: producer -> Kinesis -> consumer -> DynamoDB, with Lambda's duplicates and retries, checked

Usage: racesafe pipeline [options]

Runs the reference pipeline on kinesalite and DynamoDB Local: the producer publishes versioned changes (some
producer invocations retried) partitioned by the gateway that relayed them, so one device's changes spread over
shards; Lambda's event source mapping is played locally (parallelization factor 4 per shard, batch size 100,
whole-batch retries, duplicate deliveries, concurrent invocations, lost responses, crashes after a write), and the
consumer writes the state table. The verdict reads the final state and the table's own stream: a version
regression is an older version committed after a newer one.

Options:
  --variant <name>    safe (kinesisHandler + putIfNewer) | naive (read the batch's state, compare, put)  (default: safe)
  --events <n>        changes to produce (default: 2000)
  --keys <n>          distinct keys (default: 20)
  --shards <n>        Kinesis shards (default: 4)
  --seed <n>          seed of the workload and the faults (default: 1)
  --partition-by <p>  gateway (one device's changes over many shards) | key (a device per shard) (default: gateway)
  --json              print the result as JSON on stdout (progress goes to stderr)
  -h, --help          show this help

Exit code: 0 when the verdict holds, 1 when it does not, 2 on bad usage or a missing engine.`;

/** Parses argv, runs the pipeline and returns the exit code. */
export async function runPipelineCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('pipeline', pipelineHelp, argv, options);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const variant = values.variant ?? 'safe';
  if (variant !== 'safe' && variant !== 'naive') {
    console.error(`racesafe pipeline: --variant must be safe or naive (got '${variant}')`);
    return 2;
  }
  const numbers: Record<'events' | 'keys' | 'shards' | 'seed', number> = {
    events: 2000,
    keys: 20,
    shards: 4,
    seed: 1,
  };
  for (const name of ['events', 'keys', 'shards', 'seed'] as const) {
    const given = values[name];
    if (given === undefined) continue;
    const n = Number(given);
    const min = name === 'seed' ? 0 : 1;
    if (!Number.isSafeInteger(n) || n < min) {
      console.error(`racesafe pipeline: --${name} must be a whole number >= ${min} (got '${given}')`);
      return 2;
    }
    numbers[name] = n;
  }
  if (numbers.keys > numbers.events) {
    console.error('racesafe pipeline: --keys cannot exceed --events');
    return 2;
  }
  const partitionBy = values['partition-by'] ?? 'gateway';
  if (partitionBy !== 'gateway' && partitionBy !== 'key') {
    console.error(`racesafe pipeline: --partition-by must be gateway or key (got '${partitionBy}')`);
    return 2;
  }
  if (!hasJava()) {
    // dynalite has no streams, and the verdict reads the state table's stream.
    console.error('racesafe pipeline: needs DynamoDB Local (Java 17+): the verdict reads the state table stream');
    return 2;
  }

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const db = await startDynamoDB({ engine: 'dynamodb-local' });
  const kinesis = await startKinesis();
  try {
    log(
      `racesafe pipeline --variant ${variant}: ${numbers.events} events, ${numbers.keys} keys, ${numbers.shards} shards, partitioned by ${partitionBy}, seed ${numbers.seed}`,
    );
    const result = await runPipeline(
      { endpoint: db.endpoint, dynamodb: db.dynamodb, streams: db.streams, kinesis: kinesis.client },
      {
        variant: variant as PipelineVariant,
        ...numbers,
        partitionBy,
        onProgress: (progress) => log(formatProgress(progress)),
      },
    );
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else console.log(`\n${renderPipelineResult(result)}`);
    return result.verdict.holds ? 0 : 1;
  } finally {
    await kinesis.stop();
    await db.stop();
  }
}

function formatProgress(progress: PipelineProgress): string {
  const { outcomes, source } = progress;
  return `  published ${progress.published}, consumed ${progress.consumed}, delivered ${source.recordsDelivered} (redelivered ${source.redeliveries}); applied ${outcomes.applied}, stale ${outcomes.stale}, duplicate ${outcomes.duplicate}, failed ${outcomes.failed}`;
}

/** The result as the terminal shows it. */
export function renderPipelineResult(result: PipelineResult): string {
  const { verdict, source, outcomes } = result;
  const rows: [string, string | number][] = [
    ['events produced', result.produced.events],
    [
      'records published',
      `${result.produced.records} (${result.produced.producerRetries} producer invocations retried)`,
    ],
    ['records consumed', `${result.consumed} distinct`],
    ['records delivered', `${source.recordsDelivered} records in ${source.invocations} invocations`],
    [
      'redelivered records',
      `${source.redeliveries} (${source.recordsDelivered} delivered - ${source.recordsDelivered - source.redeliveries} delivered once at least)`,
    ],
    [
      'faults injected',
      `invocations: ${source.injected.duplicateDeliveries} duplicate batches, ${source.injected.concurrentInvocations} concurrent copies, ${source.injected.lostResponses} lost responses, ${source.failedInvocations} failed (whole batch retried); ${result.crashes} crashes after a write`,
    ],
    ['writes applied', outcomes.applied],
    ['skipped stale', outcomes.stale],
    ['skipped duplicate', outcomes.duplicate],
    ['records failed', `${outcomes.failed} (retried by the event source)`],
    ['keys at highest version', `${result.keys - verdict.keysWrong}/${result.keys}`],
    ['version regressions', verdict.regressions],
    ['duplicate stream records', verdict.duplicateStreamRecords],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  lines.push('');
  if (verdict.holds) {
    lines.push(`Verdict: holds (${(result.durationMs / 1000).toFixed(1)} s). Every key ends at its highest version;`);
    lines.push('the state table stream shows no regression and no record caused by a duplicate.');
  } else {
    lines.push(`Verdict: BROKEN (${result.variant} consumer).`);
    for (const example of verdict.examples) lines.push(`  ${example}`);
  }
  return lines.join('\n');
}

const options = {
  variant: { type: 'string' },
  events: { type: 'string' },
  keys: { type: 'string' },
  shards: { type: 'string' },
  seed: { type: 'string' },
  'partition-by': { type: 'string' },
  json: { type: 'boolean' },
} as const;
