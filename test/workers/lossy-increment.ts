/** @module A worker process for issue 11's case 3: N workers increment 2 keys through a client that loses and throttles responses. */
import { RacesafeError } from '../../src/errors.js';
import { defineTable } from '../../src/table.js';
import { lossyClient, optimisticIncrement } from '../../src/write/naive-twins.test-support.js';
import { updateWithLock } from '../../src/write/update-with-lock.js';

const [endpoint, tableName, mode, workersArg, incrementsArg, seedArg] = process.argv.slice(2);
if (!endpoint || !tableName || (mode !== 'safe' && mode !== 'naive')) {
  throw new Error('usage: lossy-increment.ts ENDPOINT TABLE safe|naive WORKERS INCREMENTS SEED');
}
const workers = Number(workersArg);
const increments = Number(incrementsArg);
const command = mode === 'safe' ? 'TransactWriteItems' : 'PutItem';
const { client, destroy } = lossyClient(endpoint, {
  seed: Number(seedArg),
  lostResponse: { commands: [command], probability: 0.2 },
  throttling: { commands: [command], probability: 0.1 },
});
const table = defineTable({ client, name: tableName, partitionKey: 'pk' });

let told = 0;
let conflicts = 0;
let failures = 0;
const reasons: string[] = [];
await Promise.all(
  Array.from({ length: workers }, async (_, worker) => {
    for (let i = 0; i < increments; i++) {
      const key = { pk: `counter${(worker + i) % 2}` };
      try {
        if (mode === 'safe') {
          const outcome = await updateWithLock(table, key, (current) => ({ ...key, n: Number(current?.n ?? 0) + 1 }), {
            maxAttempts: 100,
            backoff: { baseMs: 5, capMs: 200 },
          });
          if (outcome.status === 'applied') told += 1;
        } else {
          await optimisticIncrement(client, tableName, key);
          told += 1;
        }
      } catch (error) {
        if (error instanceof RacesafeError && error.is('write.conflict')) conflicts += 1;
        else {
          failures += 1;
          if (reasons.length < 3)
            reasons.push(
              error instanceof Error
                ? `${(error as RacesafeError).code ?? error.name}: ${error.message}`
                : String(error),
            );
        }
      }
    }
  }),
);
destroy();
process.stdout.write(`${JSON.stringify({ told, conflicts, failures, reasons })}\n`);
