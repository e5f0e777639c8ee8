/** @module `npm run bench`: every benchmark on one engine in one run, reported as ratios against same-run baselines. */
import { type DynamoDBEngine, startDynamoDB } from '../src/testing/dynamodb-engine.js';
import { benchCapacity, printCapacity } from './capacity.js';
import { printComparisons } from './harness.js';
import { benchLeases, printLeases } from './leases.js';
import { benchOverhead, printOverhead } from './overhead.js';
import { pinEngineAndClient } from './pinning.js';
import { benchPipeline, printPipelineBench } from './pipeline.js';
import { benchPrimitives } from './primitives.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `npm run bench -- --only overhead,primitives,capacity,leases` runs a subset; `--json` prints every number.
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : undefined;
const wanted = (name: 'overhead' | 'primitives' | 'capacity' | 'pipeline' | 'leases') =>
  only === undefined || only.has(name);
// `--rounds 20` shortens the primitives' paired rounds (default 80; information rows run half as many).
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : undefined;
if (rounds !== undefined && !(Number.isSafeInteger(rounds) && rounds > 0))
  throw new Error('--rounds must be a positive integer');
// `--ops 300` shortens each round (default 1000 operations), for a loaded machine.
const opsArg = process.argv.indexOf('--ops');
const ops = opsArg >= 0 ? Number(process.argv[opsArg + 1]) : undefined;
if (ops !== undefined && !(Number.isSafeInteger(ops) && ops > 0)) throw new Error('--ops must be a positive integer');
// `--events 10000` sizes the streams workload (default 20,000: about 12 minutes for both streams runs on 2 cores).
const eventsArg = process.argv.indexOf('--events');
const events = eventsArg >= 0 ? Number(process.argv[eventsArg + 1]) : undefined;
if (events !== undefined && !(Number.isSafeInteger(events) && events > 0)) {
  throw new Error('--events must be a positive integer');
}

/** Runs `bench` with the engine and this process on separate cores, and releases the cores after. */
async function pinned<T>(engine: DynamoDBEngine, bench: () => Promise<T>): Promise<T> {
  const pinning = pinEngineAndClient(engine);
  console.log(pinning.report);
  try {
    return await bench();
  } finally {
    pinning.unpin();
  }
}

const onProgress = (line: string) => console.error(line);

const engine = await startDynamoDB({ engine: 'auto' });
try {
  console.log(`engine: ${engine.engine} at ${engine.endpoint}`);
  const overhead = wanted('overhead') ? await benchOverhead() : undefined;
  if (overhead) printOverhead(overhead);
  const primitives = wanted('primitives')
    ? await pinned(engine, () =>
        benchPrimitives(engine, { ...(rounds === undefined ? {} : { rounds }), ...(ops === undefined ? {} : { ops }) }),
      )
    : undefined;
  if (primitives)
    printComparisons('Write primitives vs raw commands (same condition, same engine, same run)', primitives);
  const capacity = wanted('capacity') ? await benchCapacity(engine) : undefined;
  if (capacity) printCapacity(capacity);
  // The stream consumers are judged on the state table's stream, which only DynamoDB Local has. Twice: as this machine
  // runs them (CPU-bound), and with the latencies of AWS that the local engines lack.
  const pipeline =
    wanted('pipeline') && engine.capabilities.streams
      ? [
          await benchPipeline(engine, { ...(events && { events }), onProgress }),
          await benchPipeline(engine, { ...(events && { events }), latency: {}, onProgress }),
        ]
      : undefined;
  for (const result of pipeline ?? []) printPipelineBench(result);
  if (wanted('pipeline') && !pipeline)
    console.log('\nStreams benchmark skipped: it needs DynamoDB Local (table streams)');
  const leases = wanted('leases') ? await benchLeases(engine) : undefined;
  if (leases) printLeases(leases);
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ engine: engine.engine, overhead, primitives, capacity, pipeline, leases }, null, 2));
} finally {
  await engine.stop();
}
