import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { freshTable, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { cached } from '../lease/cached.js';
import { idempotentHandler } from '../lease/idempotent.js';
import { getCurrent } from '../write/get-current.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { tenantHandler } from './handler.js';

const engine = useEngine();

/** A Lambda context as the tenant isolation mode fills it (`tenantId` from X-Amz-Tenant-Id), or without a tenant. */
function lambdaContext(tenantId?: string): Context {
  return {
    ...(tenantId === undefined ? {} : { tenantId }),
    getRemainingTimeInMillis: () => 30_000,
    awsRequestId: 'r',
  } as Context;
}

interface PaymentEvent {
  readonly idempotencyKey: string;
  readonly amount: number;
}

describe('the idempotency leak across tenants (regression)', () => {
  it("naive: a key function that sees only the event, no tenant in the context: green gets blue's stored response, the handler runs once", async () => {
    const { table } = await freshTable(engine, { prefix: 'leak-naive', stream: false });
    const runs: string[] = [];
    const handler = idempotentHandler(
      async (event: PaymentEvent & { tenant: string }) => {
        runs.push(event.tenant);
        return { tenant: event.tenant, charged: event.amount };
      },
      { table, key: (event) => `payment#${event.idempotencyKey}` },
    );
    await handler({ tenant: 'blue', idempotencyKey: 'k-1', amount: 10 }, lambdaContext());
    const green = await handler({ tenant: 'green', idempotencyKey: 'k-1', amount: 99 }, lambdaContext());
    expect(green).toEqual({ tenant: 'blue', charged: 10 }); // the leak
    expect(runs).toEqual(['blue']);
  });

  it('safe: with context.tenantId the records are tenant-scoped: blue and green each run once and get their own response', async () => {
    const { table } = await freshTable(engine, { prefix: 'leak-safe', stream: false });
    const runs: string[] = [];
    const handler = idempotentHandler(
      async (event: PaymentEvent, context: Context) => {
        runs.push(String(context.tenantId));
        return { tenant: context.tenantId, charged: event.amount };
      },
      { table, key: (event) => `payment#${event.idempotencyKey}` },
    );
    const event = { idempotencyKey: 'k-1', amount: 10 };
    expect(await handler(event, lambdaContext('blue'))).toEqual({ tenant: 'blue', charged: 10 });
    expect(await handler({ ...event, amount: 99 }, lambdaContext('green'))).toEqual({ tenant: 'green', charged: 99 });
    expect(await handler(event, lambdaContext('blue'))).toEqual({ tenant: 'blue', charged: 10 }); // a real duplicate
    expect(runs).toEqual(['blue', 'green']);
  });
});

describe('tenantHandler', () => {
  it('fails closed without a tenant id, refuses a prefix trick, and hands each tenant its scoped tables', async () => {
    const { table } = await freshTable(engine, { prefix: 'tenant-handler', stream: false });
    const appended: Record<string, unknown>[] = [];
    let runs = 0;
    const handler = tenantHandler(
      async (_event: { orderId: string }, _context, { tenantId }) => {
        runs += 1;
        return tenantId;
      },
      { tables: { orders: table }, logger: { appendKeys: (keys) => appended.push(keys) } },
    );
    const missing = await handler({ orderId: 'o-1' }, lambdaContext()).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(RacesafeError);
    expect((missing as RacesafeError).code).toBe('tenant.missingTenantId');
    const trick = await handler({ orderId: 'o-1' }, lambdaContext('blue#x')).catch((e: unknown) => e);
    expect((trick as RacesafeError).code).toBe('validation.invalidInput');
    expect(runs).toBe(0);
    expect(appended).toEqual([]);
    expect(await handler({ orderId: 'o-1' }, lambdaContext('blue'))).toBe('blue');
    expect(appended).toEqual([{ tenantId: 'blue' }]);
  });

  it('blue and green write the same key and each reads back its own item and cache value', async () => {
    const { table } = await freshTable(engine, { prefix: 'tenant-handler2', stream: false });
    const handler = tenantHandler(
      async (event: { pk: string; version: number }, _context, { tenantId, tables }) => {
        await putIfNewer(tables.orders, { ...event, writtenBy: tenantId });
        const rates = await cached(tables.orders, 'rates', async () => `rates-of-${tenantId}`);
        return { stored: await getCurrent(tables.orders, { pk: event.pk }), rates };
      },
      { tables: { orders: table } },
    );
    const blue = await handler({ pk: 'o-1', version: 1 }, lambdaContext('blue'));
    const green = await handler({ pk: 'o-1', version: 1 }, lambdaContext('green'));
    expect(blue).toMatchObject({ stored: { pk: 'o-1', writtenBy: 'blue' }, rates: 'rates-of-blue' });
    expect(green).toMatchObject({ stored: { pk: 'o-1', writtenBy: 'green' }, rates: 'rates-of-green' });
  });
});
