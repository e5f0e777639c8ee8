/** @module What every source turns a Lambda record into: its ids, its default lane key and its decoded payload. */
import type { Version } from '../table.js';

/** The payload of a record, decoded, or why it could not be. */
export type Decoded =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly reason: string };

/** One record of a batch as the handler sees it, whatever its source. */
export interface SourceRecord<Raw> {
  /** Position in the batch: Lambda delivers a batch in sequence order (one shard, or one queue's order). */
  readonly index: number;
  /** What the batch response reports for this record: a sequence number, or an SQS message id. */
  readonly itemIdentifier: string;
  /** The record's unique id: Kinesis `eventID` (`shardId:sequenceNumber`), DynamoDB `eventID`, SQS `messageId`. */
  readonly eventId: string;
  /** The lane key when the caller gives no `key`: partition key, item keys, message group or message id. */
  readonly sourceKey: string;
  /**
   * Records that must stay in order whatever the caller's `key` says: the SQS FIFO message group. Undefined for
   * sources whose order the caller's key defines.
   */
  readonly orderGroup: string | undefined;
  readonly decoded: Decoded;
  readonly raw: Raw;
}

/** How one event source describes its records. */
export interface Source<Event, Raw> {
  /** The name used in outcome events and errors, e.g. `kinesisHandler`. */
  readonly name: string;
  /** The records of an event, in delivery order. */
  records(event: Event): readonly Raw[];
  /** Normalizes one record; throws only when the record cannot even be reported (no identifier). */
  describe(raw: Raw, index: number): SourceRecord<Raw>;
  /** Where the records came from (`eventSourceARN`), for outcome events. */
  origin(raw: Raw): string;
}

/** What the handler knows about the record it is handling, beside the parsed event. */
export interface RecordContext<Raw> {
  /** The record's unique id (see {@link SourceRecord.eventId}); a good `applyOnce` id for redeliveries. */
  readonly eventId: string;
  /** The id reported in `batchItemFailures` when this record fails. */
  readonly itemIdentifier: string;
  /** The lane key. */
  readonly key: string;
  /** The event's version, when it has one. */
  readonly version: Version | undefined;
  /** The record exactly as Lambda delivered it. */
  readonly raw: Raw;
  /**
   * Spread into a racesafe call (`putIfNewer(state, item, record.callOptions)`) so its outcome events carry the
   * record's id, version and fields.
   */
  readonly callOptions: { readonly context: Readonly<Record<string, unknown>> };
}
