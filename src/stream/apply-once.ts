/** @module applyOnce: an effect and its event-id marker committed in one transaction, so a redelivery is skipped. */
import { type CancellationReason, invalidInput, RacesafeError } from '../errors.js';
import type { Observer } from '../observe/events.js';
import { Operation } from '../request/operation.js';
import { checkDistinctRoles, checkOptionValues, type OptionRules, optionRules } from '../rules/options.js';
import type { Item, Table } from '../table.js';
import { type TransactionBuilder, transaction } from '../transaction/builder.js';

export interface ApplyOnceOptions {
  /**
   * How long the marker blocks a redelivery, in seconds. It must outlive every redelivery the source can make: SQS
   * keeps a message up to 14 days, Kinesis 24 hours by default (up to 365 days with extended retention).
   * @default 1209600 (14 days)
   */
  readonly ttlSeconds?: number;
  /** The marker table's TTL attribute (epoch seconds); turn TTL on for it so markers expire. @default 'expiresAt' */
  readonly ttlAttribute?: string;
  /** Prefix of the marker's partition key value, so markers can share a table with other items. @default 'event#' */
  readonly markerPrefix?: string;
  /** The marker's sort key value, when the marker table has a sort key. @default 'marker' */
  readonly markerSortKey?: string;
  /** Attempts when the transaction conflicts with another or is throttled. @default 5 */
  readonly maxAttempts?: number;
  /** Observers of this call, in addition to the marker table's. @default none */
  readonly observe?: Observer | readonly Observer[];
  /** Fields passed through to outcome events (a stream record's `callOptions.context`). @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The clock for the marker's expiry, in epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** What `applyOnce` did. */
export type ApplyOnceOutcome =
  /** The effect and the marker were committed together. */
  | { readonly status: 'applied'; readonly eventId: string; readonly token: string; readonly attempts: number }
  /** The marker exists: this event's effect was applied before (or by a concurrent delivery); nothing was written. */
  | { readonly status: 'duplicate'; readonly eventId: string; readonly marker: Item | undefined }
  /** A condition of the effect failed (a guard said no); nothing was written and no marker was left. */
  | {
      readonly status: 'rejected';
      readonly eventId: string;
      readonly reason: string;
      readonly reasons: readonly CancellationReason[];
    };

const applyOnceOptionRules: OptionRules<ApplyOnceOptions> = {
  ttlSeconds: optionRules.positiveInteger,
  ttlAttribute: optionRules.attributeName,
  markerPrefix: optionRules.string,
  markerSortKey: optionRules.nonEmptyString,
  maxAttempts: optionRules.positiveInteger,
  observe: optionRules.observers,
  context: optionRules.record,
  now: optionRules.function,
};

/**
 * Applies an effect that is not naturally idempotent (a decrement, a transfer, an append) exactly once per event id.
 * One TransactWriteItems carries the effect's actions and a put of a marker item conditioned on
 * `attribute_not_exists(pk)`: DynamoDB commits all or nothing, so a redelivered or concurrently duplicated event finds
 * the marker and is cancelled whole (the marker's ConditionalCheckFailed), which is reported as `duplicate`.
 *
 * ```
 *  delivery 1: [effect + put marker if absent] ──commit──▶ applied
 *  delivery 2: [effect + put marker if absent] ──cancel (marker exists)──▶ duplicate, effect not applied again
 * ```
 *
 * The marker (first action of the transaction) leaves 99 actions for the effect. Pick the event id with care: a
 * record's `eventId` recognises redeliveries; a producer's own event id also recognises a producer that sent twice.
 *
 * @example
 * ```ts
 * import { decrement, defineTable } from 'racesafe';
 * import { applyOnce } from 'racesafe/stream';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const inventory = defineTable({ client, name: 'inventory', partitionKey: 'sku' });
 * const markers = defineTable({ client, name: 'processed-events', partitionKey: 'pk' });
 * const outcome = await applyOnce(markers, 'order-7f3a', (tx) =>
 *   tx.update(inventory, { sku: 'apple' }, { changes: { stock: decrement(2) }, require: { stock: { gte: 2 } } }),
 * );
 * if (outcome.status === 'duplicate') console.log('already applied');
 * ```
 */
export async function applyOnce(
  markers: Table,
  eventId: string,
  actions: (tx: TransactionBuilder) => unknown,
  options: ApplyOnceOptions = {},
): Promise<ApplyOnceOutcome> {
  checkOptionValues(options, applyOnceOptionRules, 'applyOnce');
  if (typeof eventId !== 'string' || eventId === '') throw invalidInput('eventId', 'must be a non-empty string');
  if (typeof actions !== 'function') throw invalidInput('actions', 'must be a function that adds the effect actions');
  const ttlSeconds = options.ttlSeconds ?? 1_209_600;
  const ttlAttribute = options.ttlAttribute ?? 'expiresAt';
  // The expiry needs its own attribute: on the marker table's key it moves the marker to another item (a different
  // event then reads as a duplicate), on eventId or appliedAt it overwrites what the marker records.
  checkDistinctRoles(
    {
      partitionKey: markers.partitionKey,
      sortKey: markers.sortKey,
      eventId: 'eventId',
      appliedAt: 'appliedAt',
      ttlAttribute,
    },
    'applyOnce',
  );
  const now = (options.now ?? Date.now)();
  const markerKey: Item = { [markers.partitionKey]: `${options.markerPrefix ?? 'event#'}${eventId}` };
  if (markers.sortKey !== undefined) markerKey[markers.sortKey] = options.markerSortKey ?? 'marker';
  const marker: Item = {
    ...markerKey,
    eventId,
    appliedAt: new Date(now).toISOString(),
    // DynamoDB TTL reads epoch seconds; an expired marker still blocks until TTL deletes it, which is the safe side.
    [ttlAttribute]: Math.floor(now / 1000) + ttlSeconds,
  };
  const tx = transaction().put(markers, marker, { require: { [markers.partitionKey]: { exists: false } } });
  actions(tx);
  if (tx.size < 2) throw invalidInput('actions', 'applyOnce needs at least one effect action');
  const callOptions = {
    ...(options.observe === undefined ? {} : { observe: options.observe }),
    ...(options.context === undefined ? {} : { context: options.context }),
  };
  const operation = new Operation(markers, 'applyOnce', markerKey, callOptions);
  return operation.run(async (): Promise<ApplyOnceOutcome> => {
    try {
      // Committed inside this operation, so observers see one applyOnce event, not a transaction event as well.
      const committed = await tx.commitWithin(operation, { maxAttempts: options.maxAttempts ?? 5 });
      return { status: 'applied', eventId, token: committed.token, attempts: committed.attempts };
    } catch (error) {
      if (!(error instanceof RacesafeError && error.is('transaction.cancelled'))) throw error;
      const reasons = error.details.reasons;
      if (reasons[0]?.code === 'ConditionalCheckFailed') {
        operation.reason = `event ${eventId} was already applied`;
        return { status: 'duplicate', eventId, marker: reasons[0].item };
      }
      const failing = reasons.filter((reason) => reason.code !== 'None');
      // Only a failed guard is an outcome; any other cancellation (validation, capacity) is the caller's to see.
      if (failing.length === 0 || !failing.every((reason) => reason.code === 'ConditionalCheckFailed')) throw error;
      operation.reason = error.message;
      return { status: 'rejected', eventId, reason: error.message, reasons };
    }
  });
}
