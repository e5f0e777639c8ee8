/** @module README example: a Kinesis consumer on racesafe/stream, and an exactly-once effect (type-checked). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decrement, defineTable, powertoolsLogger, putIfNewer } from 'racesafe';
import { applyOnce, kinesisHandler, sqsHandler } from 'racesafe/stream';
import { z } from 'zod';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const logger = { debug: console.debug, info: console.info, warn: console.warn, error: console.error };
const state = defineTable({
  client,
  name: 'device-state',
  partitionKey: 'deviceId',
  observe: powertoolsLogger(logger), // a skipped stale or duplicate write is logged with the event's id and version
});
const Reading = z.object({ deviceId: z.string(), version: z.number().int().positive(), temperature: z.number() });

/** Per-key lanes, per-key fail-fast, and the partial batch response Lambda expects. */
export const readingsHandler = kinesisHandler({
  parse: Reading,
  key: (reading) => reading.deviceId,
  handle: (reading, record) => putIfNewer(state, reading, record.callOptions),
});

const stock = defineTable({ client, name: 'stock', partitionKey: 'sku' });
const markers = defineTable({ client, name: 'processed-events', partitionKey: 'pk' });
const Order = z.object({ orderId: z.string(), sku: z.string(), quantity: z.number().int().positive() });

/** An effect that is not idempotent (a decrement) applied exactly once per event, however often SQS delivers it. */
export const ordersHandler = sqsHandler({
  parse: Order,
  handle: (order) =>
    applyOnce(markers, order.orderId, (tx) =>
      tx.update(
        stock,
        { sku: order.sku },
        { changes: { quantity: decrement(order.quantity) }, require: { quantity: { gte: order.quantity } } },
      ),
    ),
});
