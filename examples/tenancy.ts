/** @module docs/tenancy.md example: a tenant-isolated order API behind API Gateway (type-checked). */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { cached, defineTable, getCurrent, idempotentHandler, powertoolsLogger, putIfNewer } from 'racesafe';
import { tenantClients, tenantHandler } from 'racesafe/tenant';

const logger = new Logger({ serviceName: 'orders-api' });
// The execution role's client: used only to reach STS (through tenantClients) and for the idempotency records.
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const observe = powertoolsLogger(logger);
const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId', observe });
const idempotency = defineTable({ client, name: 'orders-idempotency', partitionKey: 'pk', observe });

/** One STS session per tenant, tagged `tenant=<id>`: the tenant role's policy allows only `TENANT#<id>#*` keys. */
const credentials = tenantClients({
  roleArn: 'arn:aws:iam::123456789012:role/orders-tenant-access',
  clientConfig: { region: 'eu-west-1' },
  maxTenants: 1, // PER_TENANT: an execution environment only ever serves one tenant
});

declare function fetchCatalog(tenantId: string): Promise<Record<string, number>>;

const putOrder = tenantHandler(
  async (event: APIGatewayProxyEvent, _context, { tenantId, tables }): Promise<APIGatewayProxyResult> => {
    const order = JSON.parse(event.body ?? '{}') as { orderId: string; version: number; sku: string };
    // Module-scope and DynamoDB caches are safe here: the environment and the keys are the tenant's own.
    const catalog = await cached(tables.orders, 'catalog', () => fetchCatalog(tenantId), { ttl: 60_000 });
    if (!(order.sku in catalog)) return { statusCode: 422, body: 'unknown sku' };
    const outcome = await putIfNewer(tables.orders, order); // stored as orderId TENANT#<tenant>#<orderId>
    const stored = await getCurrent(tables.orders, { orderId: order.orderId }); // orderId comes back unprefixed
    return { statusCode: outcome.status === 'applied' ? 201 : 409, body: JSON.stringify(stored) };
  },
  { tables: { orders }, credentials, logger },
);

/**
 * The handler for a function created with `TenancyConfig: { TenantIsolationMode: 'PER_TENANT' }`, invoked by API
 * Gateway with the tenant id (X-Amz-Tenant-Id). A retried request (same Idempotency-Key) gets the stored response;
 * the same key from another tenant is another request, because the records are scoped by `context.tenantId`.
 */
export const handler = idempotentHandler(putOrder, {
  table: idempotency,
  key: (event) => `order#${event.headers['Idempotency-Key'] ?? event.requestContext.requestId}`,
  validatePayload: (event) => event.body,
});
