/** @module For unit tests only: a request handler at the client boundary that records what reached "the wire" and answers `{}`. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localClientConfig } from './dynamodb-engine.js';

/** A client whose requests never leave the process: each one is recorded and answered with an empty JSON body. */
export function recordingClients(config: Pick<DynamoDBClientConfig, 'maxAttempts'> = {}) {
  const sent: string[] = [];
  const requestHandler = {
    async handle(request: { headers: Record<string, string> }) {
      // DynamoDB's JSON protocol names the operation in this header: `DynamoDB_20120810.PutItem`.
      sent.push(String(request.headers['x-amz-target']).split('.').at(-1) ?? '');
      const body = new TextEncoder().encode('{}');
      return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
    },
  };
  const dynamodb = new DynamoDBClient({
    ...localClientConfig,
    ...config,
    endpoint: 'http://127.0.0.1:9',
    requestHandler: requestHandler as unknown as NonNullable<DynamoDBClientConfig['requestHandler']>,
  });
  const client = DynamoDBDocumentClient.from(dynamodb);
  return { dynamodb, client, sent };
}
