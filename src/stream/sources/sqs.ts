/** @module SQS as a source: standard queues report failed message ids; FIFO queues keep each message group in order. */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { invalidInput } from '../../errors.js';
import { decodeJson } from '../decode.js';
import { processBatch } from '../handler.js';
import { resolveStreamOptions, type StreamHandlerOptions } from '../options.js';
import type { Source, SourceRecord } from '../record.js';

/**
 * The payload is the message body as JSON. A standard queue has no order, so by default each message is its own lane.
 * A FIFO queue delivers each message group in order (Amazon SQS Developer Guide, "FIFO queue logic"): the group is an
 * order group whatever the caller's key, so a failure also fails every later message of its group.
 */
export const sqsSource: Source<SQSEvent, SQSRecord> = {
  name: 'sqsHandler',
  records: (event) => event.Records,
  describe(raw, index): SourceRecord<SQSRecord> {
    const messageId = raw.messageId;
    if (typeof messageId !== 'string' || messageId === '') {
      throw invalidInput(`Records[${index}].messageId`, 'an SQS record needs its message id');
    }
    const group = raw.attributes?.MessageGroupId;
    const orderGroup = typeof group === 'string' && group !== '' ? group : undefined;
    return {
      index,
      itemIdentifier: messageId,
      eventId: messageId,
      sourceKey: orderGroup ?? messageId,
      orderGroup,
      decoded: typeof raw.body === 'string' ? decodeJson(raw.body) : { ok: false, reason: 'undecodable: no body' },
      raw,
    };
  },
  origin: (raw) => raw.eventSourceARN ?? 'sqs',
};

/**
 * An SQS consumer Lambda handler that returns a partial batch response (enable `ReportBatchItemFailures` on the event
 * source mapping). Standard queue: failed message ids. FIFO queue: the failed message and every later message of its
 * group, so the group keeps its order on redelivery.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { decrement, defineTable } from 'racesafe';
 * import { applyOnce, sqsHandler } from 'racesafe/stream';
 * import { z } from 'zod';
 *
 * const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
 * const inventory = defineTable({ client, name: 'inventory', partitionKey: 'sku' });
 * const markers = defineTable({ client, name: 'processed-events', partitionKey: 'pk' });
 * const Order = z.object({ orderId: z.string(), sku: z.string(), quantity: z.number().int().positive() });
 *
 * export const handler = sqsHandler({
 *   parse: Order,
 *   key: (order) => order.sku,
 *   handle: (order) =>
 *     applyOnce(markers, order.orderId, (tx) =>
 *       tx.update(inventory, { sku: order.sku }, { changes: { stock: decrement(order.quantity) } }),
 *     ),
 * });
 * ```
 */
export function sqsHandler<E = unknown>(
  options: StreamHandlerOptions<E, SQSRecord>,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const resolved = resolveStreamOptions(options, 'sqsHandler');
  return (event) => processBatch(sqsSource, resolved, event);
}
