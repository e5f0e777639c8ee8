/** @module Configuration of the pipeline's Lambda functions, from environment variables, so they deploy as they are. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Reads a required environment variable, naming it when it is missing (a deploy mistake, not a runtime one). */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
}

/**
 * The state table's DocumentClient. `DYNAMODB_ENDPOINT` points it at a local engine; unset, the SDK uses the
 * function's region and role, as on AWS.
 *
 * @example
 * ```ts
 * import { documentClientFromEnv } from './config.js';
 *
 * const client = documentClientFromEnv({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });
 * ```
 */
export function documentClientFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const endpoint = env.DYNAMODB_ENDPOINT;
  const dynamodb = new DynamoDBClient(endpoint ? { endpoint } : {});
  return DynamoDBDocumentClient.from(dynamodb);
}

/**
 * The stream's Kinesis client. `KINESIS_ENDPOINT` points it at kinesalite. HTTP/1.1 works on AWS too and is what
 * kinesalite speaks (the SDK's default Kinesis handler would try HTTP/2).
 *
 * @example
 * ```ts
 * import { kinesisClientFromEnv } from './config.js';
 *
 * const kinesis = kinesisClientFromEnv({ KINESIS_ENDPOINT: 'http://127.0.0.1:4567' });
 * ```
 */
export function kinesisClientFromEnv(env: NodeJS.ProcessEnv = process.env): KinesisClient {
  const endpoint = env.KINESIS_ENDPOINT;
  return new KinesisClient({ requestHandler: new NodeHttpHandler(), ...(endpoint ? { endpoint } : {}) });
}
