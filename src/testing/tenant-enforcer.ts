/** @module A client middleware that asks an IAM evaluator whether a tenant session may send each request, the way DynamoDB would with `dynamodb:LeadingKeys`. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AttachableClient, type Handler, operationName, stackAttachments } from './faults-stack.js';

/** One authorisation question, as IAM sees it: the action, the resource and the request's leading keys. */
export interface AccessRequest {
  /** `dynamodb:GetItem`, `dynamodb:ConditionCheckItem`, … (a transaction asks once per action). */
  readonly action: string;
  /** The table's ARN, or its index's (`…/index/<name>`). */
  readonly resource: string;
  /** The partition key values the request touches, as stored; undefined when it has none (a Scan). */
  readonly leadingKeys: readonly string[] | undefined;
}

/** Decides one question; plug in a real IAM evaluator (the docs show `@cloud-copilot/iam-simulate`). */
export type AccessEvaluator = (request: AccessRequest) => boolean | Promise<boolean>;

export interface EnforceLeadingKeysOptions {
  /** Each table's partition key attribute, by table name (a table not listed has no leading keys: denied by a sound policy). */
  readonly tables: Readonly<Record<string, { readonly partitionKey: string }>>;
  readonly evaluator: AccessEvaluator;
  /** The ARN of a table. @default `arn:aws:dynamodb:us-east-1:123456789012:table/<name>` */
  readonly tableArn?: (tableName: string) => string;
}

/** Requests seen by an enforcer: every one is either allowed (and sent) or denied (and never sent). */
export interface EnforcerStats {
  allowed: number;
  denied: number;
}

export interface LeadingKeysEnforcer {
  /** Attaches to a client (a DocumentClient and its DynamoDBClient share one stack); returns a detach function. */
  attach(client: AttachableClient): () => void;
  readonly stats: EnforcerStats;
}

type Marshalled = Record<string, AttributeValue>;

/** The value of a leading key as IAM compares it: the attribute's value as a string. */
function keyValue(key: Marshalled | undefined, partitionKey: string | undefined): string | undefined {
  if (key === undefined || partitionKey === undefined) return undefined;
  const value = key[partitionKey] as { S?: string; N?: string; B?: Uint8Array } | undefined;
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return value.N;
  return value?.B === undefined ? undefined : Buffer.from(value.B).toString('base64');
}

const itemActions: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/**
 * The authorisation questions of one low-level (marshalled) request (pure): one per action of a transaction, one
 * per table of a batch, one otherwise. A Query's leading key is the value its key condition compares the partition
 * key with.
 */
export function accessRequests(
  commandName: string | undefined,
  input: Readonly<Record<string, unknown>>,
  tables: EnforceLeadingKeysOptions['tables'],
  tableArn: (tableName: string) => string,
): AccessRequest[] {
  const operation = operationName(commandName);
  const pkOf = (table: unknown) => (typeof table === 'string' ? tables[table]?.partitionKey : undefined);
  const one = (action: string, table: unknown, keys: (string | undefined)[], index?: unknown): AccessRequest => {
    const name = String(table);
    const resource = typeof index === 'string' ? `${tableArn(name)}/index/${index}` : tableArn(name);
    const leadingKeys = keys.length > 0 && keys.every((key) => key !== undefined) ? (keys as string[]) : undefined;
    return { action: `dynamodb:${action}`, resource, leadingKeys };
  };
  const fields = input as {
    TableName?: unknown;
    Key?: Marshalled;
    Item?: Marshalled;
    IndexName?: unknown;
    TransactItems?: Record<string, { TableName?: unknown; Key?: Marshalled; Item?: Marshalled }>[];
    RequestItems?: Record<string, unknown>;
  };
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [one(operation, fields.TableName, [keyValue(fields.Key, pkOf(fields.TableName))])];
    case 'PutItem':
      return [one(operation, fields.TableName, [keyValue(fields.Item, pkOf(fields.TableName))])];
    case 'Query':
      return [one('Query', fields.TableName, [queriedKey(input, pkOf(fields.TableName))], fields.IndexName)];
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return (fields.TransactItems ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, action]) =>
          one(itemActions[kind] ?? kind, action.TableName, [
            keyValue(action.Key ?? action.Item, pkOf(action.TableName)),
          ]),
        ),
      );
    case 'BatchGetItem':
      return Object.entries(fields.RequestItems ?? {}).map(([table, request]) =>
        one(
          'BatchGetItem',
          table,
          ((request as { Keys?: Marshalled[] }).Keys ?? []).map((key) => keyValue(key, pkOf(table))),
        ),
      );
    case 'BatchWriteItem':
      return Object.entries(fields.RequestItems ?? {}).map(([table, requests]) =>
        one(
          'BatchWriteItem',
          table,
          (requests as { PutRequest?: { Item: Marshalled }; DeleteRequest?: { Key: Marshalled } }[]).map((request) =>
            keyValue(request.PutRequest?.Item ?? request.DeleteRequest?.Key, pkOf(table)),
          ),
        ),
      );
    case 'ExecuteStatement':
      return [partiQLRequest((input as { Statement?: unknown }).Statement, tableArn)];
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      const list = operation === 'ExecuteTransaction' ? 'TransactStatements' : 'Statements';
      const statements = ((input as Record<string, unknown>)[list] ?? []) as { Statement?: unknown }[];
      return statements.map((statement) => partiQLRequest(statement?.Statement, tableArn));
    }
    default:
      return [one(operation, fields.TableName ?? '*', [], fields.IndexName)];
  }
}

/** A PartiQL table or index name: double-quoted (`""` inside is a quote) or a bare identifier. */
const partiQLName = `("(?:[^"]|"")+"|[A-Za-z0-9_.-]+?)`;
const partiQLTarget = new RegExp(
  String.raw`^\s*(?:(SELECT)\b[\s\S]*?\bFROM|(INSERT)\s+INTO|(UPDATE)|(DELETE)\s+FROM)\s+${partiQLName}(?:\s*\.\s*${partiQLName})?(?=\s|$|\()`,
  'i',
);

/**
 * How IAM authorises one PartiQL statement: `dynamodb:PartiQLSelect` (Insert, Update, Delete) on the table or index it
 * names. Its leading keys are not computed (a sound policy denies PartiQL outright); a statement that cannot be read
 * is asked on no table, which no policy written for the tables allows.
 */
function partiQLRequest(statement: unknown, tableArn: (tableName: string) => string): AccessRequest {
  const match = typeof statement === 'string' ? partiQLTarget.exec(statement) : null;
  const verb = (match?.slice(1, 5).find((word) => word !== undefined) ?? 'Unknown').toLowerCase();
  const unquote = (name: string) => (name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name);
  const table = match?.[5] === undefined ? '' : unquote(match[5]);
  const index = match?.[6] === undefined ? undefined : unquote(match[6]);
  const action = `dynamodb:PartiQL${verb.charAt(0).toUpperCase()}${verb.slice(1)}`;
  const resource = index === undefined ? tableArn(table) : `${tableArn(table)}/index/${index}`;
  return { action, resource, leadingKeys: undefined };
}

/** The value a Query's key condition compares the partition key with (`#pk = :v` or `pk = :v`). */
function queriedKey(input: Readonly<Record<string, unknown>>, partitionKey: string | undefined): string | undefined {
  const expression = input.KeyConditionExpression;
  if (typeof expression !== 'string' || partitionKey === undefined) return undefined;
  const names = Object.entries((input.ExpressionAttributeNames ?? {}) as Record<string, string>)
    .filter(([, name]) => name === partitionKey)
    .map(([placeholder]) => placeholder);
  for (const name of [...names, partitionKey]) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(`(?:^|[\\s(])${escaped}\\s*=\\s*(:[A-Za-z0-9_]+)`).exec(expression);
    const placeholder = match?.[1];
    if (placeholder !== undefined) {
      const value = ((input.ExpressionAttributeValues ?? {}) as Marshalled)[placeholder];
      return keyValue(value === undefined ? undefined : { [partitionKey]: value }, partitionKey);
    }
  }
  return undefined;
}

/** The error DynamoDB answers an unauthorised request with. */
function accessDenied(request: AccessRequest): Error {
  const error = new Error(
    `User is not authorized to perform: ${request.action} on resource: ${request.resource} (leading keys ${JSON.stringify(request.leadingKeys ?? null)})`,
  );
  return Object.assign(error, {
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
  });
}

/**
 * Enforces a tenant session's IAM policy locally: before each request leaves the client, its
 * `dynamodb:LeadingKeys` are computed and the evaluator asked, for every action it carries; a denied request fails
 * with `AccessDeniedException`, as DynamoDB would answer it, and is never sent. DynamoDB Local checks no IAM at all,
 * so this is how a local test sees what the policy would refuse.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { enforceLeadingKeys } from 'racesafe/testing';
 *
 * const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:8000', region: 'us-east-1' });
 * const enforcer = enforceLeadingKeys({
 *   tables: { orders: { partitionKey: 'orderId' } },
 *   // Plug a real IAM evaluator here (for example @cloud-copilot/iam-simulate, whose AGPL licence you then accept).
 *   evaluator: ({ leadingKeys }) => leadingKeys !== undefined && leadingKeys.every((key) => key.startsWith('TENANT#blue#')),
 * });
 * const detach = enforcer.attach(client);
 * ```
 */
export function enforceLeadingKeys(options: EnforceLeadingKeysOptions): LeadingKeysEnforcer {
  const tableArn = options.tableArn ?? ((name: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${name}`);
  const stats: EnforcerStats = { allowed: 0, denied: 0 };
  const attach = stackAttachments('enforceLeadingKeys', [
    {
      // Below serialization (the low-level input, even from a DocumentClient), above retries: asked once per call.
      position: 'call',
      middleware: (next: Handler, context) => async (args) => {
        const questions = accessRequests(
          context.commandName,
          args.input as Record<string, unknown>,
          options.tables,
          tableArn,
        );
        for (const question of questions) {
          if (!(await options.evaluator(question))) {
            stats.denied += 1;
            throw accessDenied(question);
          }
        }
        stats.allowed += 1;
        return next(args);
      },
    },
  ]);
  return { attach, stats };
}
