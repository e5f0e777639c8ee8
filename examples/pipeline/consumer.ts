/** @module The pipeline's consumer Lambda: Kinesis to the state table with putIfNewer, per-key lanes, partial batch responses. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { defineTable, type Observer, powertoolsLogger, putIfNewer } from 'racesafe';
import { kinesisHandler } from 'racesafe/stream';
import { documentClientFromEnv, requiredEnv } from './config.js';
import { parseStateChange } from './state-change.js';

export interface ConsumerOptions {
  /** The caller's DocumentClient. */
  readonly client: DynamoDBDocumentClient;
  /** The state table: partition key `key`, version in `version`. */
  readonly tableName: string;
  /** Write only the highest version of each key in a batch. @default false */
  readonly collapse?: boolean;
  /**
   * Receives one outcome per record. @default a Powertools logger that logs skipped stale and duplicate writes (with
   * the event's id, version and fields) and stays silent on applied ones
   */
  readonly observe?: Observer;
}

type KinesisConsumer = (event: KinesisStreamEvent, context?: Context) => Promise<KinesisStreamBatchResponse>;

/**
 * Builds the consumer's handler. `putIfNewer` is one conditional PutItem (`attribute_not_exists(key) OR version < :v`),
 * so an older or repeated version is skipped by DynamoDB itself, whatever the delivery order, and writes no stream
 * record. Needs `FunctionResponseTypes: [ReportBatchItemFailures]` on the event source mapping: a failed record then
 * fails only its key's later records, and Lambda redelivers from the lowest failed sequence number, which re-reads
 * records already written: they come back `duplicate`, harmlessly.
 *
 * @example
 * ```ts
 * import { startDynamoDB } from 'racesafe/testing';
 * import { createConsumer } from './consumer.js';
 *
 * const db = await startDynamoDB();
 * const consume = createConsumer({ client: db.client, tableName: 'device-state', collapse: true });
 * const response = await consume({ Records: [] });
 * ```
 */
export function createConsumer(options: ConsumerOptions): KinesisConsumer {
  const state = defineTable({ client: options.client, name: options.tableName, partitionKey: 'key' });
  const observe =
    options.observe ??
    powertoolsLogger(new Logger({ serviceName: 'state-consumer' }), { levels: { applied: 'silent' } });
  return kinesisHandler({
    parse: parseStateChange,
    key: (change) => change.key,
    // `updatedAt` differs per write, as in most state tables: a rewrite would reach the table's stream (DynamoDB writes
    // no stream record for a put that changes nothing), so the pipeline's verdict would see one.
    handle: (change, record) =>
      putIfNewer(state, { ...change, updatedAt: new Date().toISOString() }, record.callOptions),
    collapse: options.collapse ?? false,
    observe,
  });
}

let configured: KinesisConsumer | undefined;

/** The Lambda entry point; `STATE_TABLE` names the table, `DYNAMODB_ENDPOINT` optionally points at a local engine. */
export const handler: KinesisConsumer = (event, context) => {
  configured ??= createConsumer({
    client: documentClientFromEnv(),
    tableName: requiredEnv('STATE_TABLE'),
    collapse: process.env.COLLAPSE === 'true',
  });
  return configured(event, context);
};
