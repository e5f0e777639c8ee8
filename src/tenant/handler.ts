/** @module tenantHandler(): a Lambda handler for tenant isolation mode that fails closed and sees only its tenant's data. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { invalidInput, invalidOption, RacesafeError, rejectUnknownOptions } from '../errors.js';
import type { Table } from '../table.js';
import type { TenantClients } from './credentials.js';
import { tenantScope } from './scope.js';
import { checkTenantId, type TenantKeyOptions } from './tenant-id.js';

/** The part of Powertools' `Logger` the handler uses: the tenant id joins every log line of the invocation. */
export interface KeyedLogger {
  appendKeys(attributes: Record<string, unknown>): void;
  /** Called at the start of each invocation with `['tenantId']`, so a refused one is not logged as the last tenant. */
  removeKeys?(keys: string[]): void;
}

export interface TenantHandlerOptions<T extends Record<string, Table>> {
  /** The tables the handler uses; it receives each one scoped to the invocation's tenant. */
  readonly tables: T;
  /**
   * Per-tenant clients (`tenantClients`): the scoped tables then send with the tenant's own STS credentials, so IAM
   * (`dynamodb:LeadingKeys`) refuses another tenant's keys even if the code builds one. @default none (the tables' clients)
   */
  readonly credentials?: TenantClients;
  /** How partition keys are prefixed; must match the policies'. @default { label: 'TENANT', separator: '#' } */
  readonly keys?: TenantKeyOptions;
  /** A Powertools Logger: `tenantId` is appended to its keys for each invocation. @default none */
  readonly logger?: KeyedLogger;
}

const tenantHandlerOptionNames: readonly (keyof TenantHandlerOptions<never>)[] = [
  'tables',
  'credentials',
  'keys',
  'logger',
];

/** What the handler gets for its invocation's tenant. */
export interface TenantInvocation<T extends Record<string, Table>> {
  readonly tenantId: string;
  /** The tables, scoped to the tenant. */
  readonly tables: T;
  /** The tenant's own DynamoDB client, when `credentials` is configured. */
  readonly client: DynamoDBDocumentClient | undefined;
}

/**
 * Wraps a handler for Lambda's tenant isolation mode (`TenancyConfig: { TenantIsolationMode: 'PER_TENANT' }`). Each
 * invocation reads `context.tenantId` (set from `X-Amz-Tenant-Id`); one without a tenant id is refused with
 * `tenant.missingTenantId` before the handler runs (fail closed), one with an invalid id with
 * `validation.invalidInput`. The handler gets its tables scoped to the tenant and, with `credentials`, a client with
 * the tenant's own credentials. Lambda isolates the runtime per tenant; this isolates the data.
 *
 * @example
 * ```ts
 * import { defineTable, putIfNewer } from 'racesafe';
 * import { tenantHandler } from 'racesafe/tenant';
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId' });
 * export const handler = tenantHandler(
 *   async (event: APIGatewayProxyEvent, _context, { tables }): Promise<APIGatewayProxyResult> => {
 *     const order = JSON.parse(event.body ?? '{}') as { orderId: string; version: number };
 *     const outcome = await putIfNewer(tables.orders, order); // stored under TENANT#<tenant>#<orderId>
 *     return { statusCode: outcome.status === 'applied' ? 201 : 409, body: outcome.status };
 *   },
 *   { tables: { orders } },
 * );
 * ```
 */
export function tenantHandler<E, R, T extends Record<string, Table>>(
  handler: (event: E, context: Context, tenant: TenantInvocation<T>) => R | Promise<R>,
  options: TenantHandlerOptions<T>,
): (event: E, context: Context) => Promise<R> {
  if (typeof handler !== 'function') throw invalidInput('handler', 'must be a function');
  if (typeof options !== 'object' || options === null) throw invalidOption('tenantHandler', 'options are required');
  rejectUnknownOptions(options, tenantHandlerOptionNames, 'tenantHandler');
  const tables = options.tables;
  if (typeof tables !== 'object' || tables === null || Object.keys(tables).length === 0) {
    throw invalidOption('tables', 'must name at least one table from defineTable');
  }
  for (const [name, table] of Object.entries(tables)) {
    if (typeof table?.client?.send !== 'function')
      throw invalidOption(`tables.${name}`, 'must be a table from defineTable');
  }
  if (options.credentials !== undefined && typeof options.credentials.clientFor !== 'function') {
    throw invalidOption('credentials', 'must come from tenantClients()');
  }
  const scopeOptions = options.keys === undefined ? {} : { keys: options.keys };
  return async (event, context) => {
    // Appended keys outlive the invocation (module scope): clear the last tenant's first, so that a refused
    // invocation is not logged under it.
    options.logger?.removeKeys?.(['tenantId']);
    const tenantId = context?.tenantId;
    if (tenantId === undefined || tenantId === null || tenantId === '') {
      throw new RacesafeError(
        'tenant.missingTenantId',
        'invoked without a tenant id (context.tenantId): refused; invoke with X-Amz-Tenant-Id on a PER_TENANT function',
        {},
      );
    }
    checkTenantId(tenantId, 'context.tenantId');
    options.logger?.appendKeys({ tenantId });
    const client = options.credentials?.clientFor(tenantId);
    const scoped: Record<string, Table> = {};
    for (const [name, table] of Object.entries(tables)) {
      scoped[name] = tenantScope(client === undefined ? table : { ...table, client }, tenantId, scopeOptions);
    }
    return handler(event, context, { tenantId, tables: scoped as T, client });
  };
}
