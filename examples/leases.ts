/** @module README example: idempotent functions, single-flight cache fill and a sharded counter (type-checked). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { cached, defineTable, idempotent, shardedCounter } from 'racesafe';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const leases = defineTable({ client, name: 'leases', partitionKey: 'pk' });

declare function chargeCard(orderId: string, cents: number): Promise<{ chargeId: string }>;
declare function fetchRates(): Promise<Record<string, number>>;

/** Runs once per order: concurrent duplicates wait and get the stored result; a zombie's late result is refused. */
export const charge = idempotent(chargeCard, {
  table: leases,
  key: (orderId) => `charge#${orderId}`,
  ttl: 3_600_000,
  leaseMs: 15_000,
});

/** One upstream call per fill, however many callers miss at once. */
export function rates(): Promise<Record<string, number>> {
  return cached(leases, 'rates#EUR', fetchRates, { ttl: 60_000, leaseMs: 10_000, staleWhileRevalidate: 300_000 });
}

/** A hot counter spread over 16 items: one atomic ADD per increment, one BatchGet per read. */
export const pageViews = shardedCounter(leases, { pk: 'views#home' }, { shards: 16 });
