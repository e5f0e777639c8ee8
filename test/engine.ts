/** @module What an integration test gets: clients for the project's shared engine, and capability-gated tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, inject, it } from 'vitest';
import type { Capability } from '../src/testing/capabilities.js';
import { localClientConfig } from '../src/testing/dynamodb-engine.js';

/** Clients for the engine the current project started; destroyed after the file's tests. */
export function useEngine() {
  const engine = inject('engine');
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const streams = new DynamoDBStreamsClient({ ...localClientConfig, endpoint: engine.endpoint });
  afterAll(() => {
    dynamodb.destroy();
    streams.destroy();
  });
  return { ...engine, dynamodb, client, streams };
}

/**
 * `it`, or a skipped `it` whose name says which capability the engine lacks. On dynalite the suite runs what the
 * engine supports and names the reason for the rest.
 */
export function itWhen(capabilities: readonly Capability[]) {
  const engine = inject('engine');
  const missing = capabilities.filter((capability) => !engine.capabilities[capability]);
  if (missing.length === 0) return it;
  const skipped = it.skipIf(true);
  return (name: string, fn: () => unknown, timeout?: number) =>
    skipped(`${name} [skipped on ${engine.name}: no ${missing.join(', ')}]`, fn, timeout);
}
