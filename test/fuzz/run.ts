/**
 * @module `npm run fuzz -- --runs N --seed S`: the fuzz suite at any size against a fresh DynamoDB Local, printing
 * how many calls landed in each bucket, then `--batches B` generated stream batches (default: runs / 5) and the bucket of
 * every record (exit code 1 when any call or record is in a failing bucket).
 */
import { startDynamoDB } from '../../src/testing/dynamodb-engine.js';
import { failing, formatReport, runFuzz } from './oracle.js';
import { failingStream, formatStreamReport, runStreamFuzz } from './stream-oracle.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
  return value;
}

const runs = argument('runs', 1000);
const seed = argument('seed', Date.now() % 1_000_000);
const batches = argument('batches', Math.ceil(runs / 5));
const engine = await startDynamoDB({ engine: 'dynamodb-local' });
try {
  const report = await runFuzz(engine, { seed, runs });
  console.log(formatReport(report));
  const stream = await runStreamFuzz(engine, { seed, batches });
  console.log(formatStreamReport(stream));
  const failed =
    failing.some((bucket) => report.counts[bucket] > 0) || failingStream.some((bucket) => stream.counts[bucket] > 0);
  process.exitCode = failed ? 1 : 0;
} finally {
  await engine.stop();
}
