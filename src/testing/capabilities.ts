/** @module Measures what a DynamoDB endpoint really supports, by asking it. */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/** What an engine supports, as measured by {@link probeCapabilities}. */
export interface EngineCapabilities {
  /** TransactWriteItems / TransactGetItems. */
  readonly transactions: boolean;
  /** `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'` returns the stored item on a failed condition. */
  readonly returnValuesOnConditionCheckFailure: boolean;
  /** Tables can have a stream (the commit log our checkers read). */
  readonly streams: boolean;
  /** UpdateTimeToLive is accepted. */
  readonly ttl: boolean;
}

/** The capability names, for messages such as "skipped: the engine has no streams". */
export type Capability = keyof EngineCapabilities;

/**
 * Probes an endpoint with a throw-away table: one request per capability. Engines differ silently (dynalite ignores
 * `ReturnValuesOnConditionCheckFailure` instead of rejecting it), so we observe behaviour rather than trust names.
 */
export async function probeCapabilities(dynamodb: DynamoDBClient): Promise<EngineCapabilities> {
  const TableName = `racesafe_probe_${process.pid}_${Date.now().toString(36)}`;
  const keySchema = {
    TableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
  let streams = false;
  try {
    const created = await dynamodb.send(
      new CreateTableCommand({
        ...keySchema,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    streams = Boolean(created.TableDescription?.LatestStreamArn);
  } catch {
    await dynamodb.send(new CreateTableCommand(keySchema));
  }
  try {
    await untilActive(dynamodb, TableName);
    const Item = { pk: { S: 'probe' }, v: { N: '1' } };
    await dynamodb.send(new PutItemCommand({ TableName, Item }));
    let returnValuesOnConditionCheckFailure = false;
    try {
      await dynamodb.send(
        new PutItemCommand({
          TableName,
          Item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      returnValuesOnConditionCheckFailure = (error as { Item?: unknown }).Item !== undefined;
    }
    const transactions = await succeeds(() =>
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ConditionCheck: { TableName, Key: { pk: { S: 'probe' } }, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      ),
    );
    const ttl = await succeeds(() =>
      dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      ),
    );
    return { transactions, returnValuesOnConditionCheckFailure, streams, ttl };
  } finally {
    await dynamodb.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
  }
}

/**
 * Waits for the table to be ACTIVE. dynalite answers CreateTable before its own timer (createTableMs: 0) has stored
 * the ACTIVE status, and refuses requests to a CREATING table with ResourceNotFoundException: without this wait, about
 * one start in ten failed on a loaded machine.
 */
export async function untilActive(dynamodb: DynamoDBClient, TableName: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await dynamodb.send(new DescribeTableCommand({ TableName }));
    if (described.Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${TableName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function succeeds(request: () => Promise<unknown>): Promise<boolean> {
  try {
    await request();
    return true;
  } catch {
    return false;
  }
}
