/** @module Confining one request to a tenant (pure): prefix every key it carries, refuse what cannot be confined, strip the prefix from what comes back. */
import type { Item } from '../table.js';
import { crossTenant, type TenantKeyCodec } from './tenant-id.js';

/** The DocumentClient commands a tenant scope can confine; anything else (Scan, PartiQL, low-level commands) is refused. */
export type ScopedCommand =
  | 'Get'
  | 'Put'
  | 'Update'
  | 'Delete'
  | 'Query'
  | 'BatchGet'
  | 'BatchWrite'
  | 'TransactGet'
  | 'TransactWrite';

/** The key schema of one table inside a scope. */
export interface ScopedTableKeys {
  readonly partitionKey: string;
  readonly sortKey: string | undefined;
}

/** One tenant, and the tables its scope covers (by name). */
export interface RequestScope {
  readonly codec: TenantKeyCodec;
  readonly tables: ReadonlyMap<string, ScopedTableKeys>;
}

type Input = Record<string, unknown>;

/** Parameters from DynamoDB's legacy API: their conditions name attributes outside any expression we can check. */
const legacyParameters = [
  'Expected',
  'KeyConditions',
  'QueryFilter',
  'ScanFilter',
  'ConditionalOperator',
  'AttributesToGet',
];

/**
 * The request as it must be sent for the tenant: every partition key prefixed, every table checked to be in scope,
 * every expression checked to leave the partition key alone (a condition may only ask whether it exists).
 * Throws `tenant.crossTenant` for anything it cannot confine, before anything is sent.
 */
export function scopeRequest(command: ScopedCommand, input: Input, scope: RequestScope): Input {
  for (const name of legacyParameters) {
    if (input[name] !== undefined)
      refuse(scope, name, 'legacy parameters cannot be confined to a tenant; use expressions');
  }
  switch (command) {
    case 'Get':
      return { ...input, Key: scopeKey(scope, tableOf(scope, input, 'TableName'), input.Key, 'Key') };
    case 'Put':
    case 'Update':
    case 'Delete':
      return scopeWrite(scope, command, input, '');
    case 'Query':
      return scopeQuery(scope, input);
    case 'BatchGet':
      return { ...input, RequestItems: scopeBatchGet(scope, input.RequestItems, 'RequestItems') };
    case 'BatchWrite':
      return { ...input, RequestItems: scopeBatchWrite(scope, input.RequestItems, 'RequestItems') };
    case 'TransactGet':
      return { ...input, TransactItems: scopeTransactItems(scope, input.TransactItems, ['Get']) };
    case 'TransactWrite':
      return {
        ...input,
        TransactItems: scopeTransactItems(scope, input.TransactItems, ['Put', 'Update', 'Delete', 'ConditionCheck']),
      };
  }
}

/** The response as the caller must see it: the tenant's prefix stripped from every key and item in it. */
export function unscopeResponse(command: ScopedCommand, output: Input, scope: RequestScope, input: Input): Input {
  const result: Input = { ...output };
  const tableName = typeof input.TableName === 'string' ? input.TableName : undefined;
  const own = (field: string) => {
    const value = output[field];
    if (value !== undefined && tableName !== undefined) {
      result[field] = unscopeItem(scope, keysOf(scope, tableName), value as Item, field);
    }
  };
  switch (command) {
    case 'Get':
      own('Item');
      break;
    case 'Put':
    case 'Update':
    case 'Delete':
      own('Attributes');
      break;
    case 'Query': {
      if (tableName === undefined) break;
      const keys = keysOf(scope, tableName);
      if (Array.isArray(output.Items)) {
        result.Items = output.Items.map((item, index) => unscopeItem(scope, keys, item as Item, `Items[${index}]`));
      }
      own('LastEvaluatedKey');
      break;
    }
    case 'BatchGet':
      result.Responses = mapTables(scope, output.Responses, (keys, items, name) =>
        (items as Item[]).map((item, index) => unscopeItem(scope, keys, item, `Responses.${name}[${index}]`)),
      );
      result.UnprocessedKeys = mapTables(scope, output.UnprocessedKeys, (keys, entry, name) => {
        const request = entry as { Keys?: Item[] };
        return {
          ...request,
          Keys: (request.Keys ?? []).map((key, i) => unscopeItem(scope, keys, key, `UnprocessedKeys.${name}[${i}]`)),
        };
      });
      break;
    case 'BatchWrite':
      result.UnprocessedItems = mapTables(scope, output.UnprocessedItems, (keys, requests, name) =>
        (requests as Input[]).map((request, i) => {
          const field = `UnprocessedItems.${name}[${i}]`;
          const put = request.PutRequest as { Item: Item } | undefined;
          const del = request.DeleteRequest as { Key: Item } | undefined;
          if (put) return { PutRequest: { ...put, Item: unscopeItem(scope, keys, put.Item, field) } };
          if (del) return { DeleteRequest: { ...del, Key: unscopeItem(scope, keys, del.Key, field) } };
          return request;
        }),
      );
      break;
    case 'TransactGet': {
      const items = (input.TransactItems ?? []) as Input[];
      if (Array.isArray(output.Responses)) {
        result.Responses = output.Responses.map((response: Input, index) => {
          const get = items[index]?.Get as Input | undefined;
          if (response?.Item === undefined || get === undefined) return response;
          const keys = keysOf(scope, String(get.TableName));
          return { ...response, Item: unscopeItem(scope, keys, response.Item as Item, `Responses[${index}].Item`) };
        });
      }
      break;
    }
    case 'TransactWrite':
      break;
  }
  for (const field of Object.keys(result)) if (result[field] === undefined && !(field in output)) delete result[field];
  return result;
}

/**
 * Strips the prefix from the stored items a failed request carries in wire format (lib-dynamodb does not unmarshall
 * them): `Item` of a ConditionalCheckFailedException, `CancellationReasons[].Item` of a cancelled transaction. An item
 * that is not the tenant's (which the prefixed request cannot have reached) is removed rather than shown.
 */
export function unscopeError(error: unknown, command: ScopedCommand, input: Input, scope: RequestScope): void {
  if (typeof error !== 'object' || error === null) return;
  const failure = error as {
    Item?: Record<string, unknown> | undefined;
    CancellationReasons?: { Item?: Record<string, unknown> | undefined }[];
  };
  if (failure.Item !== undefined && typeof input.TableName === 'string') {
    failure.Item = unscopeWireItem(scope, keysOf(scope, input.TableName), failure.Item);
  }
  if (command === 'TransactWrite' && Array.isArray(failure.CancellationReasons)) {
    const items = (input.TransactItems ?? []) as Input[];
    failure.CancellationReasons.forEach((reason, index) => {
      if (reason?.Item === undefined) return;
      const action = Object.values(items[index] ?? {})[0] as Input | undefined;
      const keys = action === undefined ? undefined : scope.tables.get(String(action.TableName));
      reason.Item = keys === undefined ? undefined : unscopeWireItem(scope, keys, reason.Item);
    });
  }
}

function unscopeWireItem(
  scope: RequestScope,
  keys: ScopedTableKeys,
  item: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const value = item[keys.partitionKey] as { S?: unknown } | undefined;
  if (value === undefined) return item;
  if (typeof value.S !== 'string' || !value.S.startsWith(scope.codec.prefix)) return undefined;
  return { ...item, [keys.partitionKey]: { S: value.S.slice(scope.codec.prefix.length) } };
}

function refuse(scope: RequestScope, field: string, rule: string): never {
  throw crossTenant(scope.codec.tenantId, field, rule);
}

function keysOf(scope: RequestScope, tableName: string): ScopedTableKeys {
  const keys = scope.tables.get(tableName);
  if (keys === undefined) refuse(scope, 'TableName', `table ${tableName} is not in this tenant scope`);
  return keys;
}

function tableOf(scope: RequestScope, input: Input, field: string): ScopedTableKeys {
  const name = input.TableName;
  if (typeof name !== 'string') refuse(scope, field, 'TableName is required');
  return keysOf(scope, name);
}

function scopeKey(scope: RequestScope, keys: ScopedTableKeys, key: unknown, field: string): Item {
  if (typeof key !== 'object' || key === null) refuse(scope, field, 'a key object is required');
  const value = (key as Item)[keys.partitionKey];
  return { ...(key as Item), [keys.partitionKey]: scope.codec.scope(value, `${field}.${keys.partitionKey}`) };
}

function unscopeItem(scope: RequestScope, keys: ScopedTableKeys, item: Item, field: string): Item {
  if (typeof item !== 'object' || item === null || !(keys.partitionKey in item)) return item;
  const value = item[keys.partitionKey];
  return { ...item, [keys.partitionKey]: scope.codec.unscope(value, `${field}.${keys.partitionKey}`) };
}

function scopeWrite(scope: RequestScope, action: string, input: Input, at: string): Input {
  const keys = tableOf(scope, input, `${at}TableName`);
  checkCondition(scope, keys, input, 'ConditionExpression', at);
  if (action === 'Update') checkUpdateExpression(scope, keys, input, at);
  if (action === 'Put') return { ...input, Item: scopeKey(scope, keys, input.Item, `${at}Item`) };
  return { ...input, Key: scopeKey(scope, keys, input.Key, `${at}Key`) };
}

function scopeQuery(scope: RequestScope, input: Input): Input {
  const keys = tableOf(scope, input, 'TableName');
  if (input.IndexName !== undefined) {
    refuse(
      scope,
      'IndexName',
      "a secondary index's keys are not the table's partition key: the scope cannot confine them",
    );
  }
  checkCondition(scope, keys, input, 'FilterExpression', '');
  const expression = input.KeyConditionExpression;
  if (typeof expression !== 'string') refuse(scope, 'KeyConditionExpression', 'a query needs a key condition');
  const refs = references(keys.partitionKey, input.ExpressionAttributeNames);
  const tokens = [...expression.matchAll(tokenPattern)];
  const onKey = tokens.filter((token) => refs.has(token[0]));
  const equality = /^\s*=\s*(:[A-Za-z0-9_]+)/;
  const [only] = onKey;
  const match = onKey.length === 1 && only ? equality.exec(expression.slice((only.index ?? 0) + only[0].length)) : null;
  const placeholder = match?.[1];
  if (placeholder === undefined) {
    refuse(scope, 'KeyConditionExpression', `must compare the partition key once, as ${keys.partitionKey} = :value`);
  }
  // The value is rewritten to its prefixed form: it may serve no other comparison.
  const uses = [expression, String(input.FilterExpression ?? '')].join(' ').split(placeholder).length - 1;
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  if (uses !== 1 || !(placeholder in values)) {
    refuse(scope, 'ExpressionAttributeValues', `${placeholder} must be defined and used only for the partition key`);
  }
  const scoped: Input = {
    ...input,
    ExpressionAttributeValues: {
      ...values,
      [placeholder]: scope.codec.scope(values[placeholder], `ExpressionAttributeValues.${placeholder}`),
    },
  };
  if (input.ExclusiveStartKey !== undefined) {
    scoped.ExclusiveStartKey = scopeKey(scope, keys, input.ExclusiveStartKey, 'ExclusiveStartKey');
  }
  return scoped;
}

const tokenPattern = /[#:]?[A-Za-z0-9_]+/g;

/** The tokens that name the partition key in an expression: its placeholders, and its bare name. */
function references(partitionKey: string, names: unknown): Set<string> {
  const refs = new Set<string>([partitionKey]);
  for (const [placeholder, name] of Object.entries((names ?? {}) as Record<string, unknown>)) {
    if (name === partitionKey) refs.add(placeholder);
  }
  return refs;
}

/**
 * A condition or filter may test whether the partition key exists (racesafe's own conditions do), never compare its
 * value: the stored value carries the prefix the caller never sees.
 */
function checkCondition(scope: RequestScope, keys: ScopedTableKeys, input: Input, field: string, at: string): void {
  const expression = input[field];
  if (expression === undefined) return;
  if (typeof expression !== 'string') refuse(scope, `${at}${field}`, 'must be a string');
  const refs = references(keys.partitionKey, input.ExpressionAttributeNames);
  for (const token of expression.matchAll(tokenPattern)) {
    if (!refs.has(token[0])) continue;
    const before = expression.slice(0, token.index).trimEnd();
    const after = expression.slice((token.index ?? 0) + token[0].length).trimStart();
    const tested = /(^|[^A-Za-z0-9_])attribute_(not_)?exists\s*\($/.test(before) && after.startsWith(')');
    if (!tested) {
      refuse(scope, `${at}${field}`, `may only test whether ${keys.partitionKey} exists: its stored value is prefixed`);
    }
  }
}

/**
 * An update expression may not name the partition key at all: DynamoDB refuses to change a key, and reading it
 * (`SET copy = pk`, `if_not_exists(pk, …)`) would hand the caller its stored, prefixed value.
 */
function checkUpdateExpression(scope: RequestScope, keys: ScopedTableKeys, input: Input, at: string): void {
  const expression = input.UpdateExpression;
  if (expression === undefined) return;
  if (typeof expression !== 'string') refuse(scope, `${at}UpdateExpression`, 'must be a string');
  const refs = references(keys.partitionKey, input.ExpressionAttributeNames);
  for (const token of expression.matchAll(tokenPattern)) {
    if (refs.has(token[0])) {
      refuse(scope, `${at}UpdateExpression`, `may not name ${keys.partitionKey}: its stored value is prefixed`);
    }
  }
}

function scopeBatchGet(scope: RequestScope, requestItems: unknown, field: string): Input {
  const scoped: Input = {};
  for (const [name, request] of Object.entries(requireObject(scope, requestItems, field))) {
    const keys = keysOf(scope, name);
    const entry = request as { Keys?: unknown };
    if (!Array.isArray(entry.Keys)) refuse(scope, `${field}.${name}.Keys`, 'must be a list of keys');
    scoped[name] = {
      ...entry,
      Keys: entry.Keys.map((key, index) => scopeKey(scope, keys, key, `${field}.${name}.Keys[${index}]`)),
    };
  }
  return scoped;
}

function scopeBatchWrite(scope: RequestScope, requestItems: unknown, field: string): Input {
  const scoped: Input = {};
  for (const [name, requests] of Object.entries(requireObject(scope, requestItems, field))) {
    const keys = keysOf(scope, name);
    if (!Array.isArray(requests)) refuse(scope, `${field}.${name}`, 'must be a list of write requests');
    scoped[name] = requests.map((request: Input, index) => {
      const at = `${field}.${name}[${index}]`;
      const put = request?.PutRequest as { Item?: unknown } | undefined;
      const del = request?.DeleteRequest as { Key?: unknown } | undefined;
      if (put) return { PutRequest: { ...put, Item: scopeKey(scope, keys, put.Item, `${at}.PutRequest.Item`) } };
      if (del) return { DeleteRequest: { ...del, Key: scopeKey(scope, keys, del.Key, `${at}.DeleteRequest.Key`) } };
      return refuse(scope, at, 'must be a PutRequest or a DeleteRequest');
    });
  }
  return scoped;
}

function scopeTransactItems(scope: RequestScope, items: unknown, allowed: readonly string[]): Input[] {
  if (!Array.isArray(items)) refuse(scope, 'TransactItems', 'must be a list');
  return items.map((item: Input, index) => {
    const at = `TransactItems[${index}]`;
    const kinds = Object.keys(item ?? {});
    const [kind] = kinds;
    if (kinds.length !== 1 || kind === undefined || !allowed.includes(kind)) {
      refuse(scope, at, `must hold exactly one of ${allowed.join(', ')}`);
    }
    const action = item[kind] as Input;
    if (kind === 'Get') {
      return {
        Get: {
          ...action,
          Key: scopeKey(scope, tableOf(scope, action, `${at}.Get.TableName`), action.Key, `${at}.Get.Key`),
        },
      };
    }
    return { [kind]: scopeWrite(scope, kind, action, `${at}.${kind}.`) };
  });
}

function requireObject(scope: RequestScope, value: unknown, field: string): Input {
  if (typeof value !== 'object' || value === null) refuse(scope, field, 'must be an object of table names');
  return value as Input;
}

function mapTables(
  scope: RequestScope,
  value: unknown,
  map: (keys: ScopedTableKeys, entry: unknown, name: string) => unknown,
): Input | undefined {
  if (value === undefined) return undefined;
  const mapped: Input = {};
  for (const [name, entry] of Object.entries(value as Input)) mapped[name] = map(keysOf(scope, name), entry, name);
  return mapped;
}
