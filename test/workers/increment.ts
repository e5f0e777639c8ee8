/** @module A worker process for the cross-process lost-update test: N concurrent workers increment one item. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { defineTable } from '../../src/table.js';
import { localClientConfig } from '../../src/testing/dynamodb-engine.js';
import { updateWithLock } from '../../src/write/update-with-lock.js';

const [endpoint, tableName, mode, workersArg, incrementsArg] = process.argv.slice(2);
if (!endpoint || !tableName || (mode !== 'safe' && mode !== 'naive')) {
  throw new Error('usage: increment.ts ENDPOINT TABLE safe|naive WORKERS INCREMENTS');
}
const workers = Number(workersArg);
const increments = Number(incrementsArg);
const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint, maxAttempts: 10 });
const client = DynamoDBDocumentClient.from(dynamodb);
const table = defineTable({ client, name: tableName, partitionKey: 'pk' });
const key = { pk: 'counter' };

async function safeIncrement(): Promise<number> {
  const outcome = await updateWithLock(table, key, (current) => ({ ...key, count: Number(current?.count ?? 0) + 1 }), {
    maxAttempts: 200,
    backoff: { baseMs: 5, capMs: 200 },
  });
  return outcome.attempts;
}

async function naiveIncrement(): Promise<number> {
  const current = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  await client.send(
    new PutCommand({ TableName: tableName, Item: { ...key, count: Number(current.Item?.count ?? 0) + 1 } }),
  );
  return 1;
}

let attempts = 0;
await Promise.all(
  Array.from({ length: workers }, async () => {
    for (let i = 0; i < increments; i++) attempts += await (mode === 'safe' ? safeIncrement() : naiveIncrement());
  }),
);
dynamodb.destroy();
process.stdout.write(`${JSON.stringify({ increments: workers * increments, attempts })}\n`);
