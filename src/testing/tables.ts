/** @module Creates and deletes tables for tests and the lab. */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type StreamViewType,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { invalidOption } from '../errors.js';
import {
  checkDistinctRoles,
  checkOptionValues,
  type OptionRule,
  type OptionRules,
  optionRules,
} from '../rules/options.js';

/** A key attribute: a name (a string key) or a name and its DynamoDB type. */
export type KeyAttribute = string | { readonly name: string; readonly type: 'S' | 'N' | 'B' };

export interface CreateTableOptions {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Turns on the table's stream with this view. @default no stream */
  readonly stream?: StreamViewType;
  /** Turns on TTL on this attribute (epoch seconds). @default no TTL */
  readonly ttlAttribute?: string;
}

export interface CreatedTable {
  readonly name: string;
  /** The stream's ARN, when a stream was asked for. */
  readonly streamArn: string | undefined;
}

const keyAttributeRule: OptionRule = (value) => {
  if (typeof value === 'string') return optionRules.attributeName(value);
  if (typeof value !== 'object' || value === null)
    return "must be an attribute name or { name, type: 'S' | 'N' | 'B' }";
  const { name, type, ...rest } = value as { name?: unknown; type?: unknown };
  if (Object.keys(rest).length > 0) return `unknown field ${Object.keys(rest)[0]}; allowed: name, type`;
  return optionRules.attributeName(name) ?? optionRules.oneOf('S', 'N', 'B')(type);
};

const createTableRules: OptionRules<CreateTableOptions> = {
  // "Table names must be between 3 and 255 characters long, and may contain only a-z, A-Z, 0-9, '_', '-', '.'"
  // (Naming rules).
  name: (value) =>
    typeof value === 'string' && /^[A-Za-z0-9_.-]{3,255}$/.test(value)
      ? undefined
      : "must be 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.' (DynamoDB's table names)",
  partitionKey: keyAttributeRule,
  sortKey: keyAttributeRule,
  stream: optionRules.oneOf('NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY'),
  ttlAttribute: optionRules.attributeName,
};

let counter = 0;

/** A table name unique to this process and call, so tests sharing one engine never collide. */
export function uniqueTableName(prefix = 'racesafe'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

/**
 * Creates an on-demand table and waits until it is ACTIVE.
 *
 * @example
 * ```ts
 * import { createTable, startDynamoDB, uniqueTableName } from 'racesafe/testing';
 *
 * const db = await startDynamoDB();
 * await createTable(db.client, { name: uniqueTableName('orders'), partitionKey: 'pk', stream: 'NEW_AND_OLD_IMAGES' });
 * ```
 */
export async function createTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  options: CreateTableOptions,
): Promise<CreatedTable> {
  checkOptionValues(options, createTableRules, 'createTable');
  if (options.name === undefined || options.partitionKey === undefined) {
    throw invalidOption('createTable', 'needs name and partitionKey');
  }
  // A DocumentClient passes low-level commands through unchanged, so either client can send these.
  const dynamodb = client as DynamoDBClient;
  const keys = [options.partitionKey, options.sortKey].filter((key) => key !== undefined).map(normalizeKey);
  checkDistinctRoles(
    { partitionKey: keys[0]?.name, sortKey: keys[1]?.name, ttlAttribute: options.ttlAttribute },
    'createTable',
  );
  const input: CreateTableCommandInput = {
    TableName: options.name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
    KeySchema: keys.map((key, index) => ({ AttributeName: key.name, KeyType: index === 0 ? 'HASH' : 'RANGE' })),
    ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: options.stream } } : {}),
  };
  const created = await dynamodb.send(new CreateTableCommand(input));
  let status = created.TableDescription?.TableStatus;
  while (status !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = (await dynamodb.send(new DescribeTableCommand({ TableName: options.name }))).Table?.TableStatus;
  }
  if (options.ttlAttribute) {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: options.name,
        TimeToLiveSpecification: { AttributeName: options.ttlAttribute, Enabled: true },
      }),
    );
  }
  return { name: options.name, streamArn: created.TableDescription?.LatestStreamArn };
}

/** Deletes a table; a table that is already gone is fine. */
export async function deleteTable(client: DynamoDBClient | DynamoDBDocumentClient, name: string): Promise<void> {
  try {
    await (client as DynamoDBClient).send(new DeleteTableCommand({ TableName: name }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
}

function normalizeKey(key: KeyAttribute): { name: string; type: 'S' | 'N' | 'B' } {
  return typeof key === 'string' ? { name: key, type: 'S' } : key;
}
