/** @module The story's consumer, kept to show what goes wrong: get, compare in the client, put. Do not deploy this one. */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { Observer } from 'racesafe';
import { documentClientFromEnv, requiredEnv } from './config.js';
import { parseStateChange } from './state-change.js';

export interface NaiveConsumerOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Receives what the consumer decided per record, in the shape racesafe's consumer reports. @default none */
  readonly observe?: Observer;
}

/**
 * The story's StateLambda: for each record, read the stored version and put the item when the event is newer.
 * Correct in every single-threaded test; under a duplicate invocation, a retry racing a running one or
 * parallelization, two invocations read the same old version and both write, so an older version can land after a
 * newer one and a duplicate writes a second stream record. A failure throws and Lambda retries the whole batch.
 *
 * @example
 * ```ts
 * import { startDynamoDB } from 'racesafe/testing';
 * import { createNaiveConsumer } from './naive-consumer.js';
 *
 * const db = await startDynamoDB();
 * const consume = createNaiveConsumer({ client: db.client, tableName: 'device-state' });
 * await consume({ Records: [] });
 * ```
 */
export function createNaiveConsumer(options: NaiveConsumerOptions): (event: KinesisStreamEvent) => Promise<void> {
  const report = (status: 'applied' | 'stale' | 'duplicate', key: string, context: Record<string, unknown>) =>
    options.observe?.({
      op: 'naiveConsumer',
      table: options.tableName,
      key: { key },
      status,
      attempts: 1,
      latencyMs: 0,
      context,
    });
  return async (event) => {
    for (const record of event.Records) {
      const change = parseStateChange(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
      const context = { eventId: record.eventID, version: change.version };
      const { Item } = await options.client.send(
        new GetCommand({ TableName: options.tableName, Key: { key: change.key }, ConsistentRead: true }),
      );
      const stored = Item === undefined ? 0 : Number(Item.version);
      if (stored >= change.version) {
        report(stored === change.version ? 'duplicate' : 'stale', change.key, context);
        continue;
      }
      // The race: another invocation may have written since the read above, and this put does not check.
      const item = { ...change, updatedAt: new Date().toISOString() };
      await options.client.send(new PutCommand({ TableName: options.tableName, Item: item }));
      report('applied', change.key, context);
    }
  };
}

let configured: ((event: KinesisStreamEvent) => Promise<void>) | undefined;

/** The Lambda entry point, configured like the safe consumer's (`STATE_TABLE`, optional `DYNAMODB_ENDPOINT`). */
export const handler = (event: KinesisStreamEvent): Promise<void> => {
  configured ??= createNaiveConsumer({ client: documentClientFromEnv(), tableName: requiredEnv('STATE_TABLE') });
  return configured(event);
};
