/** @module What an integration test gets: clients for the project's shared engine, and capability-gated tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, inject, it } from 'vitest';
import type { Observer } from '../src/observe/events.js';
import { defineTable } from '../src/table.js';
import type { Capability } from '../src/testing/capabilities.js';
import { localClientConfig } from '../src/testing/dynamodb-engine.js';
import { createTable, uniqueTableName } from '../src/testing/tables.js';

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

/**
 * `describe`, or a skipped `describe` whose name gives `reason`, the way {@link itWhen} names a missing capability.
 *
 * @example
 * ```ts
 * describeWhen(inject('engine').name === 'dynamodb-local', 'needs DynamoDB Local (Java)')('replay', () => {});
 * ```
 */
export function describeWhen(condition: boolean, reason: string) {
  if (condition) return describe;
  const skipped = describe.skipIf(true);
  return (name: string, fn: () => void) => skipped(`${name} [skipped on ${inject('engine').name}: ${reason}]`, fn);
}

/** Creates a fresh table on the engine (a stream when the engine has streams) and a racesafe handle for it. */
export async function freshTable(
  engine: ReturnType<typeof useEngine>,
  options: { prefix?: string; sortKey?: string; observe?: Observer | Observer[]; stream?: boolean } = {},
) {
  const name = uniqueTableName(options.prefix ?? 'test');
  const stream = (options.stream ?? true) && engine.capabilities.streams;
  const created = await createTable(engine.dynamodb, {
    name,
    partitionKey: 'pk',
    ...(options.sortKey ? { sortKey: options.sortKey } : {}),
    ...(stream ? { stream: 'NEW_AND_OLD_IMAGES' as const } : {}),
  });
  const table = defineTable({
    client: engine.client,
    name,
    partitionKey: 'pk',
    ...(options.sortKey ? { sortKey: options.sortKey } : {}),
    ...(options.observe ? { observe: options.observe } : {}),
  });
  return { table, name, streamArn: created.streamArn };
}
