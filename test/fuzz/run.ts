/**
 * @module `npm run fuzz -- --runs N --seed S`: the fuzz suite at any size against a fresh DynamoDB Local, printing
 * how many calls landed in each bucket (exit code 1 when any leaked, crashed or stored something else).
 */
import { startDynamoDB } from '../../src/testing/dynamodb-engine.js';
import { failing, formatReport, runFuzz } from './oracle.js';

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
const engine = await startDynamoDB({ engine: 'dynamodb-local' });
try {
  const report = await runFuzz(engine, { seed, runs });
  console.log(formatReport(report));
  process.exitCode = failing.some((bucket) => report.counts[bucket] > 0) ? 1 : 0;
} finally {
  await engine.stop();
}
