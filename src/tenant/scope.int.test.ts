import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { shardedCounter } from '../counter/sharded-counter.js';
import { RacesafeError } from '../errors.js';
import { decrement, increment } from '../expression/update.js';
import { cached } from '../lease/cached.js';
import { idempotent } from '../lease/idempotent.js';
import { acquireLease, completeLease, readLease, releaseLease, renewLease } from '../lease/lease.js';
import type { OutcomeEvent } from '../observe/events.js';
import { applyOnce } from '../stream/apply-once.js';
import { kinesisHandler } from '../stream/sources/kinesis.js';
import { kinesisRecord } from '../stream/stream.test-support.js';
import type { Table } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from '../write/delete-if-not-newer.js';
import { getCurrent } from '../write/get-current.js';
import { guardedUpdate } from '../write/guarded-update.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { updateIfNewer } from '../write/update-if-newer.js';
import { updateWithLock } from '../write/update-with-lock.js';
import { tenantScope } from './scope.js';

const engine = useEngine();

/** A client that counts the requests that reach the wire: "refused before sending" means this count did not move. */
function countingClient() {
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  const counter = { sent: 0 };
  dynamodb.middlewareStack.add(
    (next) => async (args) => {
      counter.sent += 1;
      return next(args);
    },
    { step: 'build', name: 'countRequests' },
  );
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { client, counter };
}

async function tenantTables(prefix: string, options: { sortKey?: string } = {}) {
  const { client, counter } = countingClient();
  const events: OutcomeEvent[] = [];
  const created = await freshTable(engine, { prefix, stream: false, ...options, observe: (e) => events.push(e) });
  const table: Table = { ...created.table, client };
  return {
    table,
    name: created.name,
    blue: tenantScope(table, 'blue'),
    green: tenantScope(table, 'green'),
    counter,
    events,
  };
}

/** The item as stored, read around the scope. */
async function stored(name: string, pk: string): Promise<Record<string, unknown> | undefined> {
  return (await engine.client.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }))).Item;
}

async function refusal(run: () => Promise<unknown>): Promise<RacesafeError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RacesafeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('every racesafe function through a tenant scope (DynamoDB Local)', () => {
  it('versioned writes, deletes and getCurrent: own keys work, stored prefixed, returned unprefixed, invisible to green', async () => {
    const { name, blue, green, events } = await tenantTables('tenant-versioned');
    expect((await putIfNewer(blue, { pk: 'o-1', version: 2, total: 10 })).status).toBe('applied');
    expect(await stored(name, 'TENANT#blue#o-1')).toMatchObject({ version: 2, total: 10 });
    expect(await stored(name, 'o-1')).toBeUndefined();
    // The stale outcome's stored item comes from ALL_OLD on the failed condition (wire format): unprefixed too.
    const stale = await putIfNewer(blue, { pk: 'o-1', version: 1, total: 1 });
    expect(stale).toMatchObject({ status: 'stale', current: { pk: 'o-1', version: 2 } });
    expect(await getCurrent(green, { pk: 'o-1' })).toBeUndefined();
    expect((await putIfNewer(green, { pk: 'o-1', version: 1, total: 99 })).status).toBe('applied');
    expect(await getCurrent(blue, { pk: 'o-1' })).toMatchObject({ pk: 'o-1', version: 2, total: 10 });
    const updated = await updateIfNewer(blue, { pk: 'o-1' }, 3, { total: 11 });
    expect(updated).toMatchObject({ status: 'applied', item: { pk: 'o-1', version: 3, total: 11 } });
    expect((await deleteIfNotNewer(blue, { pk: 'o-1' }, 4)).status).toBe('applied');
    expect(await getCurrent(blue, { pk: 'o-1' })).toBeUndefined();
    expect(await getCurrent(green, { pk: 'o-1' })).toMatchObject({ pk: 'o-1', total: 99 });
    // Outcome events carry the tenant and the tenant's own key.
    expect(events.filter((e) => e.op === 'putIfNewer').map((e) => [e.tenantId, e.key.pk, e.status])).toEqual([
      ['blue', 'o-1', 'applied'],
      ['blue', 'o-1', 'stale'],
      ['green', 'o-1', 'applied'],
    ]);
  });

  itWhen(['transactions'])(
    "the tenant rides on every outcome event: the table's observers, the call's, and a transaction's",
    async () => {
      const { blue, events } = await tenantTables('tenant-events');
      const own: OutcomeEvent[] = [];
      await putIfNewer(blue, { pk: 'o-1', version: 1 }, { observe: (event) => own.push(event) });
      await transaction()
        .put(blue, { pk: 'o-2', n: 1 })
        .commit({ observe: (event) => own.push(event) });
      expect(own.map((event) => [event.op, event.tenantId])).toEqual([
        ['putIfNewer', 'blue'],
        ['transaction', 'blue'],
      ]);
      expect(events.map((event) => event.tenantId)).toEqual(['blue', 'blue']);
    },
  );

  itWhen(['transactions'])(
    'updateWithLock and guardedUpdate: own items only, rejected outcomes show unprefixed items',
    async () => {
      const { blue, green } = await tenantTables('tenant-locks');
      await putIfNewer(blue, { pk: 'sku-1', version: 1, stock: 3 });
      await putIfNewer(green, { pk: 'sku-1', version: 1, stock: 100 });
      const locked = await updateWithLock<{ pk: string; stock: number }>(blue, { pk: 'sku-1' }, (current) => ({
        pk: 'sku-1',
        stock: (current?.stock ?? 0) + 1,
      }));
      expect(locked).toMatchObject({ status: 'applied', item: { pk: 'sku-1', stock: 4 } });
      const rejected = await guardedUpdate(
        blue,
        { pk: 'sku-1' },
        { changes: { stock: decrement(5) }, require: { stock: { gte: 5 } } },
      );
      expect(rejected).toMatchObject({ status: 'rejected', current: { pk: 'sku-1', stock: 4 } });
      // Green's stock was not what blue's guard saw.
      expect(await getCurrent(green, { pk: 'sku-1' })).toMatchObject({ stock: 100 });
    },
  );

  itWhen(['transactions', 'returnValuesOnConditionCheckFailure'])(
    'transactions: one tenant commits; cancellation reasons are unprefixed; mixing tenants or an unscoped table is refused before sending',
    async () => {
      const { table, blue, green, counter } = await tenantTables('tenant-tx');
      await transaction().put(blue, { pk: 'alice', balance: 50 }).put(blue, { pk: 'bob', balance: 0 }).commit();
      const cancelled = await refusal(() =>
        transaction()
          .update(blue, { pk: 'alice' }, { changes: { balance: decrement(80) }, require: { balance: { gte: 80 } } })
          .update(blue, { pk: 'bob' }, { changes: { balance: increment(80) } })
          .commit(),
      );
      expect(cancelled.is('transaction.cancelled')).toBe(true);
      const reasons = (cancelled as RacesafeError<'transaction.cancelled'>).details.reasons;
      expect(reasons[0]).toMatchObject({
        code: 'ConditionalCheckFailed',
        key: { pk: 'alice' },
        item: { pk: 'alice', balance: 50 },
      });
      const before = counter.sent;
      const mixed = await refusal(() =>
        transaction().put(blue, { pk: 'x', n: 1 }).put(green, { pk: 'y', n: 1 }).commit(),
      );
      expect(mixed.code).toBe('tenant.crossTenant');
      const unscoped = await refusal(() =>
        transaction().put(blue, { pk: 'x', n: 1 }).put(table, { pk: 'y', n: 1 }).commit(),
      );
      expect(unscoped.code).toBe('tenant.crossTenant');
      const unscopedFirst = await refusal(() =>
        transaction().put(table, { pk: 'y', n: 1 }).put(blue, { pk: 'x', n: 1 }).commit(),
      );
      expect(unscopedFirst.code).toBe('tenant.crossTenant');
      expect(counter.sent).toBe(before);
    },
  );

  itWhen(['transactions'])('a transaction over two tables of one tenant is one scoped request', async () => {
    const accounts = await tenantTables('tenant-tx-a');
    const ledger = await freshTable(engine, { prefix: 'tenant-tx-l', stream: false });
    const blueLedger = tenantScope({ ...ledger.table, client: accounts.table.client }, 'blue');
    expect(blueLedger.client).toBe(accounts.blue.client);
    await transaction()
      .put(accounts.blue, { pk: 'alice', balance: 1 })
      .put(blueLedger, { pk: 'entry-1', amount: 1 })
      .commit();
    expect(await stored(ledger.name, 'TENANT#blue#entry-1')).toMatchObject({ amount: 1 });
  });

  it('leases: acquire, renew, complete, read and release inside the tenant; green sees no lease', async () => {
    const { blue, green, name } = await tenantTables('tenant-lease');
    const acquired = await acquireLease(blue, { pk: 'job-1' }, { leaseMs: 10_000 });
    expect(acquired.status).toBe('acquired');
    if (acquired.status !== 'acquired') return;
    expect(acquired.lease.key).toEqual({ pk: 'job-1' });
    expect((await acquireLease(green, { pk: 'job-1' }, { leaseMs: 10_000 })).status).toBe('acquired');
    expect((await acquireLease(blue, { pk: 'job-1' }, { leaseMs: 10_000 })).status).toBe('busy');
    expect((await renewLease(blue, acquired.lease, { leaseMs: 10_000 })).status).toBe('renewed');
    expect((await completeLease(blue, acquired.lease, { value: 'blue-result' })).status).toBe('completed');
    expect((await readLease(blue, { pk: 'job-1' }))?.value).toBe('blue-result');
    expect((await readLease(green, { pk: 'job-1' }))?.value).toBeUndefined();
    expect(await stored(name, 'TENANT#blue#job-1')).toBeDefined();
    const again = await acquireLease(blue, { pk: 'job-2' }, { leaseMs: 10_000 });
    if (again.status === 'acquired') expect((await releaseLease(blue, again.lease)).status).toBe('released');
  });

  it('idempotent and cached: the same key under blue and green runs twice, and each tenant gets its own value', async () => {
    const { blue, green } = await tenantTables('tenant-idem');
    const runs: string[] = [];
    const charge = (table: Table, tenant: string) =>
      idempotent(
        async (orderId: string) => {
          runs.push(tenant);
          return `${tenant}:${orderId}`;
        },
        { table, key: (orderId) => `charge#${orderId}` },
      );
    expect(await charge(blue, 'blue')('o-1')).toBe('blue:o-1');
    expect(await charge(green, 'green')('o-1')).toBe('green:o-1');
    expect(await charge(blue, 'blue')('o-1')).toBe('blue:o-1');
    expect(runs).toEqual(['blue', 'green']);
    expect(await cached(blue, 'rates', async () => 'blue-rates')).toBe('blue-rates');
    expect(await cached(green, 'rates', async () => 'green-rates')).toBe('green-rates');
    expect(await cached(blue, 'rates', async () => 'reloaded')).toBe('blue-rates');
  });

  itWhen(['transactions'])('shardedCounter and applyOnce: counts and markers per tenant', async () => {
    const { blue, green } = await tenantTables('tenant-counter');
    const blueViews = shardedCounter(blue, { pk: 'views' }, { shards: 4 });
    const greenViews = shardedCounter(green, { pk: 'views' }, { shards: 4 });
    for (let i = 0; i < 5; i++) await blueViews.increment();
    for (let i = 0; i < 3; i++) await greenViews.increment();
    expect([await blueViews.read(), await greenViews.read()]).toEqual([5, 3]);
    const effect = (table: Table) => (tx: ReturnType<typeof transaction>) =>
      tx.update(table, { pk: 'stock' }, { changes: { n: increment(1) } });
    expect((await applyOnce(blue, 'event-1', effect(blue))).status).toBe('applied');
    expect((await applyOnce(green, 'event-1', effect(green))).status).toBe('applied');
    const duplicate = await applyOnce(blue, 'event-1', effect(blue));
    expect(duplicate).toMatchObject({ status: 'duplicate', marker: { pk: 'event#event-1' } });
    expect(await getCurrent(blue, { pk: 'stock' })).toMatchObject({ pk: 'stock', n: 1 });
  });

  it("a stream handler's writes through each record's tenant scope: the same device id under two tenants stays apart", async () => {
    const { blue, green, name } = await tenantTables('tenant-stream');
    const scopes: Record<string, Table> = { blue, green };
    const readings = [3, 1, 2].flatMap((version) => [
      { tenant: 'blue', pk: 'device-1', version, celsius: version },
      { tenant: 'green', pk: 'device-1', version: version + 10, celsius: -version },
    ]);
    const handler = kinesisHandler({
      parse: (payload) => payload as (typeof readings)[number],
      handle: ({ tenant, ...reading }, record) => putIfNewer(scopes[tenant] as Table, reading, record.callOptions),
    });
    const batch = {
      Records: readings.map((reading, i) => kinesisRecord(`${reading.tenant}/${reading.pk}`, reading, i + 1)),
    };
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    expect(await stored(name, 'TENANT#blue#device-1')).toMatchObject({ version: 3, celsius: 3 });
    expect(await stored(name, 'TENANT#green#device-1')).toMatchObject({ version: 13, celsius: -3 });
  });

  it('queries stay in the tenant and page with unprefixed keys', async () => {
    const { blue, green } = await tenantTables('tenant-query', { sortKey: 'sk' });
    for (let i = 0; i < 5; i++) {
      await putIfNewer(blue, { pk: 'customer-1', sk: `order-${i}`, version: 1 });
      await putIfNewer(green, { pk: 'customer-1', sk: `order-${i}`, version: 1 });
    }
    const query = (ExclusiveStartKey?: Record<string, unknown>) =>
      blue.client.send(
        new QueryCommand({
          TableName: blue.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': 'customer-1' },
          Limit: 3,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
    const first = await query();
    expect(first.Items?.map((item) => item.pk)).toEqual(['customer-1', 'customer-1', 'customer-1']);
    expect(first.LastEvaluatedKey).toEqual({ pk: 'customer-1', sk: 'order-2' });
    const second = await query(first.LastEvaluatedKey);
    expect(second.Items?.map((item) => item.sk)).toEqual(['order-3', 'order-4']);
  });

  it("refuses, before sending, what it cannot confine: another tenant's stored key, Scan, an index, another table, a condition on the key value", async () => {
    const { blue, counter } = await tenantTables('tenant-refuse');
    const before = counter.sent;
    const refused = [
      await refusal(() => putIfNewer(blue, { pk: 'TENANT#green#o-1', version: 1 })),
      await refusal(() => getCurrent(blue, { pk: 'TENANT#blue#o-1' })),
      await refusal(() => blue.client.send(new ScanCommand({ TableName: blue.name }))),
      await refusal(() =>
        blue.client.send(
          new QueryCommand({
            TableName: blue.name,
            IndexName: 'byCustomer',
            KeyConditionExpression: 'customer = :c',
            ExpressionAttributeValues: { ':c': 'x' },
          }),
        ),
      ),
      await refusal(() => blue.client.send(new GetCommand({ TableName: 'another-table', Key: { pk: 'o-1' } }))),
      await refusal(() =>
        guardedUpdate(blue, { pk: 'o-1' }, { changes: { n: increment(1) }, require: { pk: { eq: 'o-1' } } }),
      ),
    ];
    expect(refused.map((error) => error.code)).toEqual(new Array(refused.length).fill('tenant.crossTenant'));
    expect(counter.sent).toBe(before);
  });
});
