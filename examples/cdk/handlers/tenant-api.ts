/** @module The tenant API's handler: PUT /orders/{id} with putIfNewer, in the invocation tenant's scope and credentials. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { defineTable, putIfNewer } from 'racesafe';
import { tenantClients, tenantHandler } from 'racesafe/tenant';
import { requiredEnv } from '../../pipeline/config.js';

const orders = defineTable({
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  name: requiredEnv('STATE_TABLE'),
  partitionKey: 'pk',
});

/**
 * Lambda sets `context.tenantId` from the `X-Amz-Tenant-Id` header that API Gateway maps; tenantHandler refuses an
 * invocation without one, scopes the table to the tenant, and sends with the tenant's own STS session (tagged with
 * its id), which the tenant-access role's LeadingKeys policy confines to `TENANT#<id>#*`.
 *
 * @example
 * ```ts
 * import { handler } from './tenant-api.js';
 *
 * // Invoked by API Gateway: PUT /orders/o-1 with x-tenant-id: blue and body {"version": 3}
 * ```
 */
export const handler = tenantHandler(
  async (event: APIGatewayProxyEvent, _context, { tables }): Promise<APIGatewayProxyResult> => {
    const id = event.pathParameters?.proxy?.split('/')[1];
    const body = JSON.parse(event.body ?? '{}') as { version?: unknown };
    if (event.httpMethod !== 'PUT' || id === undefined || typeof body.version !== 'number') {
      return { statusCode: 400, body: JSON.stringify({ message: 'PUT /orders/{id} with a numeric version' }) };
    }
    const outcome = await putIfNewer(tables.orders, { ...body, pk: id, version: body.version });
    return { statusCode: outcome.status === 'applied' ? 200 : 409, body: JSON.stringify({ status: outcome.status }) };
  },
  { tables: { orders }, credentials: tenantClients({ roleArn: requiredEnv('TENANT_ROLE_ARN') }) },
);
