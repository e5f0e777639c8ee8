/** @module Where racesafe's test middleware sits in an AWS SDK v3 client's middleware stack, and what it reads from a request. */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Any AWS SDK v3 client: a `DynamoDBClient`, a `DynamoDBDocumentClient`, or another service's client.
 *
 * `DynamoDBDocumentClient.from(client)` shares `client.middlewareStack` (the same object), so middleware attached to
 * either one sees the requests of both; attaching to both attaches once.
 */
export interface AttachableClient {
  readonly middlewareStack: Pick<DynamoDBClient['middlewareStack'], 'identify'>;
}

/** The arguments a handler receives. Below the serializer, `input` is the low-level (marshalled) input. */
export interface HandlerArguments {
  readonly input: object;
}

export type Handler = (args: HandlerArguments) => Promise<unknown>;

/** The SDK's per-request context; `commandName` is e.g. `PutItemCommand` (a DocumentClient's `PutCommand` too). */
export interface MiddlewareContext {
  readonly commandName?: string;
}

export type Middleware = (next: Handler, context: MiddlewareContext) => Handler;

/**
 * Where a middleware runs, once per `client.send()` or once per attempt:
 * - `send`: first of all (initialize step), before the input is marshalled;
 * - `call`: after serialization (build step), so `input` is the low-level input even from a DocumentClient, and still
 *   above the SDK's retry middleware;
 * - `attempt`: below the retry middleware (`finalizeRequest`/`high`) and the signer (placed relative to retry), so a
 *   retried request passes again;
 * - `attempt-inner`: below `attempt`.
 */
export type StackPosition = 'send' | 'call' | 'attempt' | 'attempt-inner';

const positions = {
  send: { step: 'initialize', priority: 'high' },
  call: { step: 'build', priority: 'high' },
  attempt: { step: 'finalizeRequest', priority: 'normal' },
  'attempt-inner': { step: 'finalizeRequest', priority: 'low' },
} as const;

export interface StackEntry {
  readonly position: StackPosition;
  readonly middleware: Middleware;
}

interface StackLike {
  add(middleware: Middleware, options: { step: string; priority: string; name: string; override: boolean }): void;
  remove(name: string): boolean;
}

let attachmentCounter = 0;

/**
 * Attaches a fixed set of middleware to clients and detaches it again. A stack reached through several clients (a
 * DocumentClient and the client it wraps) gets one copy; it is removed when its last attachment is detached.
 */
export function stackAttachments(
  owner: string,
  entries: readonly StackEntry[],
): (client: AttachableClient) => () => void {
  attachmentCounter += 1;
  const names = entries.map((entry, index) => `racesafe.${owner}#${attachmentCounter}.${index}.${entry.position}`);
  const attachments = new Map<object, number>();
  return (client) => {
    const stack = client.middlewareStack as unknown as StackLike;
    const count = attachments.get(stack) ?? 0;
    if (count === 0) {
      entries.forEach((entry, index) => {
        const { step, priority } = positions[entry.position];
        stack.add(entry.middleware, { step, priority, name: names[index] as string, override: false });
      });
    }
    attachments.set(stack, count + 1);
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      const remaining = (attachments.get(stack) ?? 1) - 1;
      if (remaining > 0) {
        attachments.set(stack, remaining);
        return;
      }
      attachments.delete(stack);
      for (const name of names) stack.remove(name);
    };
  };
}

/** What the race tooling knows about one request. */
export interface RequestDescription {
  /** The operation, without the `Command` suffix: `PutItem`, `TransactWriteItems`, `PutRecord`, … */
  readonly operation: string;
  /** Every table the request touches (several for transactions and batches). */
  readonly tables: readonly string[];
  /** The item's key, plain (unmarshalled), for single-item operations; undefined otherwise or when unknown. */
  readonly key: Readonly<Record<string, unknown>> | undefined;
  /** The request's low-level (marshalled) input, e.g. to target only updates whose UpdateExpression debits. */
  readonly input: Readonly<Record<string, unknown>>;
}

/** `PutItemCommand` → `PutItem`. Operation names in options may be written either way. */
export function operationName(commandName: string | undefined): string {
  if (commandName === undefined) return 'Unknown';
  return commandName.endsWith('Command') ? commandName.slice(0, -'Command'.length) : commandName;
}

type TransactItem = Partial<Record<'Put' | 'Update' | 'Delete' | 'ConditionCheck' | 'Get', { TableName?: string }>>;

/**
 * Reads the operation, tables and key of a low-level (marshalled) DynamoDB input. `PutItem` carries no `Key`, so its
 * key is read from the item's `keyAttributes`, which racesafe cannot know without a DescribeTable round trip.
 */
export function describeRequest(
  commandName: string | undefined,
  input: object,
  keyAttributes: readonly string[],
): RequestDescription {
  const operation = operationName(commandName);
  const fields = input as {
    TableName?: unknown;
    Key?: Record<string, AttributeValue>;
    Item?: Record<string, AttributeValue>;
    TransactItems?: readonly TransactItem[];
    RequestItems?: Record<string, unknown>;
  };
  const tables = new Set<string>();
  if (typeof fields.TableName === 'string') tables.add(fields.TableName);
  for (const item of fields.TransactItems ?? []) {
    for (const action of Object.values(item)) if (typeof action?.TableName === 'string') tables.add(action.TableName);
  }
  for (const table of Object.keys(fields.RequestItems ?? {})) tables.add(table);
  return {
    operation,
    tables: [...tables],
    key: keyOf(fields.Key, fields.Item, keyAttributes),
    input: input as Record<string, unknown>,
  };
}

function keyOf(
  key: Record<string, AttributeValue> | undefined,
  item: Record<string, AttributeValue> | undefined,
  keyAttributes: readonly string[],
): Record<string, unknown> | undefined {
  const marshalled = key ?? pick(item, keyAttributes);
  if (marshalled === undefined) return undefined;
  try {
    return unmarshall(marshalled);
  } catch {
    return undefined; // Not DynamoDB-shaped (another service's input): the trace simply has no key.
  }
}

function pick(
  item: Record<string, AttributeValue> | undefined,
  names: readonly string[],
): Record<string, AttributeValue> | undefined {
  if (item === undefined) return undefined;
  const picked = Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]]));
  return Object.keys(picked).length === 0 ? undefined : (picked as Record<string, AttributeValue>);
}
