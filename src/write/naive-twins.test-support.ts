/** @module Naive twins for the exactly-once tests: racesafe's old 16-slot token register, and the usual plain requests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newWriteToken } from '../request/write-token.js';
import { isConditionalCheckFailed } from '../retry/backoff.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { createFaults, type FaultOptions } from '../testing/faults.js';

/** Slots of the register racesafe kept on every item before 0.2. */
const slots = 16;
const slotNames = Object.fromEntries(Array.from({ length: slots }, (_, slot) => [`#rs${slot}`, `_rsToken${slot}`]));
const shift = Array.from(
  { length: slots - 1 },
  (_, i) => `#rs${slots - 1 - i} = if_not_exists(#rs${slots - 2 - i}, :rsNone)`,
);
const notMine = `NOT (${Array.from({ length: slots }, (_, slot) => `#rs${slot} = :rsTok`).join(' OR ')})`;

/** True when the item holds `token` in one of the register's slots. */
function inRegister(item: Record<string, unknown> | undefined, token: string): boolean {
  return item !== undefined && Array.from({ length: slots }, (_, slot) => item[`_rsToken${slot}`]).includes(token);
}

/**
 * The guarded decrement as racesafe sent it before 0.2: one UpdateItem that shifts the item's 16-token register and
 * refuses to run when its own token is still in it. Returns what it told its caller.
 */
export async function registerDecrement(
  client: DynamoDBDocumentClient,
  table: string,
  key: Record<string, unknown>,
  amount: number,
): Promise<'applied' | 'rejected'> {
  const token = newWriteToken();
  try {
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: `SET #q = #q - :n, ${shift.join(', ')}, #rs0 = :rsTok`,
        ConditionExpression: `attribute_exists(#q) AND #q >= :n AND ${notMine}`,
        ExpressionAttributeNames: { '#q': 'quantity', ...slotNames },
        ExpressionAttributeValues: { ':n': amount, ':rsTok': token, ':rsNone': '-' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'applied';
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const got = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return inRegister(got.Item, token) ? 'applied' : 'rejected';
  }
}

/**
 * Optimistic locking as it is usually written: read, put with `version = :expected`; on a failed condition, read
 * again and retry. A lost response that the SDK retries fails the version check (the write landed) and is applied
 * again on the next round.
 */
export async function optimisticIncrement(
  client: DynamoDBDocumentClient,
  table: string,
  key: Record<string, unknown>,
): Promise<'applied'> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const got = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    const stored = got.Item;
    const version = Number(stored?.version ?? 0);
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...key, n: Number(stored?.n ?? 0) + 1, version: version + 1 },
          ConditionExpression: stored === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(stored === undefined ? {} : { ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return 'applied';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
  throw new Error('optimisticIncrement: too many conflicts');
}

/** A DocumentClient of its own (so its SDK retry quota is its own) with `faults` attached; destroy it after. */
export function lossyClient(endpoint: string, faults: FaultOptions, maxAttempts?: number) {
  const dynamodb = new DynamoDBClient({
    ...localClientConfig,
    endpoint,
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  const client = DynamoDBDocumentClient.from(dynamodb);
  const injected = createFaults(faults);
  injected.attach(client);
  return { client, faults: injected, destroy: () => dynamodb.destroy() };
}

/**
 * Once the first request that `when` accepts has landed, and before its (lost) response travels up to the SDK's
 * retry, runs `others`: other writers commit in between. Returns whether that happened.
 */
export function interleaveAfterFirstWrite(
  client: DynamoDBDocumentClient,
  others: () => Promise<unknown>,
  when: (input: object) => boolean = () => true,
): () => boolean {
  let interleaved = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      if (!interleaved && when(args.input as object)) {
        interleaved = true;
        await others();
      }
      return result;
    },
    { step: 'deserialize', name: `interleaveOtherWriters${Math.random()}` },
  );
  return () => interleaved;
}
