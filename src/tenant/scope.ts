/** @module tenantScope(): a table handle confined to one tenant, whose client prefixes every key racesafe sends. */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import type { Table } from '../table.js';
import {
  type RequestScope,
  type ScopedCommand,
  type ScopedTableKeys,
  scopeRequest,
  unscopeError,
  unscopeResponse,
} from './scope-request.js';
import { crossTenant, type TenantKeyOptions, tenantKeyCodec, tenantKeyFormat } from './tenant-id.js';

export interface TenantScopeOptions {
  /** How partition keys are prefixed. @default { label: 'TENANT', separator: '#' }: `TENANT#<id>#<key>` */
  readonly keys?: TenantKeyOptions;
}

const tenantScopeOptionNames: readonly (keyof TenantScopeOptions)[] = ['keys'];

type CommandClass = new (input: never) => { readonly input: object };

/** The lib-dynamodb commands a scope confines, by class; any other command is refused. */
const scopedCommands = new Map<unknown, { readonly kind: ScopedCommand; readonly make: CommandClass }>([
  [GetCommand, { kind: 'Get', make: GetCommand }],
  [PutCommand, { kind: 'Put', make: PutCommand }],
  [UpdateCommand, { kind: 'Update', make: UpdateCommand }],
  [DeleteCommand, { kind: 'Delete', make: DeleteCommand }],
  [QueryCommand, { kind: 'Query', make: QueryCommand }],
  [BatchGetCommand, { kind: 'BatchGet', make: BatchGetCommand }],
  [BatchWriteCommand, { kind: 'BatchWrite', make: BatchWriteCommand }],
  [TransactGetCommand, { kind: 'TransactGet', make: TransactGetCommand }],
  [TransactWriteCommand, { kind: 'TransactWrite', make: TransactWriteCommand }],
]);

/** Marks a scoped client; `Symbol.for` so that two copies of racesafe (ESM and CJS) agree. */
export const tenantScopeMark: unique symbol = Symbol.for('racesafe.tenantScope') as never;

/** What a scoped client answers to {@link tenantScopeMark}. */
export interface TenantScopeMark {
  readonly tenantId: string;
  readonly prefix: string;
}

interface ScopedClient {
  readonly scope: RequestScope & { readonly tables: Map<string, ScopedTableKeys> };
  readonly client: DynamoDBDocumentClient;
}

/**
 * One scoped client per caller's client and tenant prefix, shared by every table of that tenant: a transaction over
 * two of a tenant's tables is one request through one client, so both must be the same scoped client.
 */
const scopedClients = new WeakMap<object, Map<string, ScopedClient>>();

/**
 * A handle on `table` for one tenant, accepted by every racesafe function. Every request it sends has the tenant's
 * prefix on the partition key (`TENANT#blue#order-1` for `order-1`); items and keys that come back have it stripped,
 * so callers pass and receive their own keys only. Anything the scope cannot confine (another table, a Scan, a
 * secondary index, a condition on the partition key's value) throws `tenant.crossTenant` before any request is sent.
 * The tenant id rides on every outcome event (`event.tenantId`), the table's observers' and the call's.
 *
 * @example
 * ```ts
 * import { defineTable, putIfNewer } from 'racesafe';
 * import { tenantScope } from 'racesafe/tenant';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId' });
 * const blueOrders = tenantScope(orders, 'blue');
 * await putIfNewer(blueOrders, { orderId: 'o-1', version: 1 }); // stored as orderId 'TENANT#blue#o-1'
 * ```
 */
export function tenantScope(table: Table, tenantId: string, options: TenantScopeOptions = {}): Table {
  rejectUnknownOptions(options, tenantScopeOptionNames, 'tenantScope');
  if (typeof table?.client?.send !== 'function') throw invalidOption('table', 'must be a table from defineTable');
  const codec = tenantKeyCodec(tenantId, tenantKeyFormat(options.keys));
  const existing = tenantOf(table);
  if (existing !== undefined) {
    if (existing.prefix === codec.prefix) return table;
    throw crossTenant(codec.tenantId, 'table', `is already scoped to tenant ${existing.tenantId}`);
  }
  const scoped = scopedClient(table.client, codec);
  const known = scoped.scope.tables.get(table.name);
  if (known !== undefined && (known.partitionKey !== table.partitionKey || known.sortKey !== table.sortKey)) {
    throw invalidOption('table', `table ${table.name} was scoped before with other key attributes`);
  }
  scoped.scope.tables.set(table.name, { partitionKey: table.partitionKey, sortKey: table.sortKey });
  // Outcome events get `tenantId` from the kernel, which reads the scoped client's mark.
  return { ...table, client: scoped.client };
}

/** The tenant a table handle is scoped to, if any. */
export function tenantOf(table: Pick<Table, 'client'>): TenantScopeMark | undefined {
  return Reflect.get(table.client, tenantScopeMark) as TenantScopeMark | undefined;
}

function scopedClient(inner: DynamoDBDocumentClient, codec: RequestScope['codec']): ScopedClient {
  let byPrefix = scopedClients.get(inner);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    scopedClients.set(inner, byPrefix);
  }
  const cached = byPrefix.get(codec.prefix);
  if (cached !== undefined) return cached;
  const scope = { codec, tables: new Map<string, ScopedTableKeys>() };
  const mark: TenantScopeMark = { tenantId: codec.tenantId, prefix: codec.prefix };
  const send = async (command: { readonly input?: unknown; readonly constructor: unknown }, ...rest: unknown[]) => {
    const known = scopedCommands.get(command?.constructor);
    if (known === undefined) {
      const name = (command?.constructor as { name?: string } | undefined)?.name ?? typeof command;
      throw crossTenant(
        codec.tenantId,
        'command',
        `${name} cannot be confined to one tenant (only lib-dynamodb Get, Put, Update, Delete, Query, BatchGet, BatchWrite, TransactGet and TransactWrite can)`,
      );
    }
    const input = (command.input ?? {}) as Record<string, unknown>;
    const request = scopeRequest(known.kind, input, scope);
    const forward = inner.send as (command: object, ...rest: unknown[]) => Promise<Record<string, unknown>>;
    try {
      const output = await forward.call(inner, new known.make(request as never), ...rest);
      return unscopeResponse(known.kind, output, scope, request);
    } catch (error) {
      unscopeError(error, known.kind, request, scope);
      throw error;
    }
  };
  const client = new Proxy(inner, {
    get(target, property) {
      if (property === 'send') return send;
      if (property === tenantScopeMark) return mark;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const entry = { scope, client };
  byPrefix.set(codec.prefix, entry);
  return entry;
}
