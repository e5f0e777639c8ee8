/** @module Options of the stream handlers: documented defaults, applied and checked once, when the handler is built. */
import { invalidOption } from '../errors.js';
import type { Observer } from '../observe/events.js';
import { checkOptionValues, type OptionRules, optionRules } from '../rules/options.js';
import { isParser, type Parser } from './parse.js';
import type { PoisonSink } from './poison.js';
import type { RecordContext } from './record.js';

/** Options of `kinesisHandler`, `dynamoDBStreamHandler` and `sqsHandler`; `Raw` is the source's Lambda record type. */
export interface StreamHandlerOptions<E, Raw> {
  /**
   * Decodes and validates a record's payload (Kinesis: the JSON in `data`; DynamoDB Streams: a `DynamoDBChange`;
   * SQS: the JSON body). A zod schema (anything with `safeParse`) or a function that returns the event or throws.
   * A refused record is poison. @default the payload as it is
   */
  readonly parse?: Parser<E, Raw>;
  /**
   * The lane key: records with one key run serially, in order. Return undefined for "no key" (the record is poison).
   * @default the partition key (Kinesis), the item's keys (DynamoDB Streams), the message group (SQS FIFO) or the
   *   message id (SQS standard: no order to keep)
   */
  readonly key?: (event: E, raw: Raw) => string | number | undefined;
  /**
   * The event's version, for `collapse` and for the outcome events. It must be a positive safe integer or a non-empty
   * string when present, or the record is poison. @default `event.version` when the event is an object
   */
  readonly version?: (event: E) => unknown;
  /**
   * The work for one record. Its result, when it is a racesafe outcome (`{ status: 'stale', … }`), is what the record's
   * outcome event reports. Throwing fails the record (and the rest of its lane), except a racesafe validation error,
   * which makes it poison.
   */
  readonly handle: (event: E, record: RecordContext<Raw>) => unknown;
  /** Lanes run at once (1 to 1000). @default 16 */
  readonly concurrency?: number;
  /**
   * Per key, handle only the record with the highest version in the batch (DynamoDB's order: numbers by value, strings
   * by UTF-8 bytes); the others are reported as `stale` (or `duplicate` at the same version) without any request. When
   * that record turns out poison (`handle` threw a racesafe validation error), the next highest is handled instead.
   * Right for state writes, wrong for effects. @default false
   */
  readonly collapse?: boolean;
  /** Where poison records go; once it resolves they count as handled. @default none: poison records are reported failed */
  readonly onPoison?: PoisonSink<Raw>;
  /** Receives one outcome event per record. @default none */
  readonly observe?: Observer | readonly Observer[];
}

/** The options with every default applied. */
export interface ResolvedStreamOptions<E, Raw> {
  readonly parse: Parser<E, Raw>;
  readonly key: ((event: E, raw: Raw) => string | number | undefined) | undefined;
  readonly version: (event: E) => unknown;
  readonly handle: (event: E, record: RecordContext<Raw>) => unknown;
  readonly concurrency: number;
  readonly collapse: boolean;
  readonly onPoison: PoisonSink<Raw> | undefined;
  readonly observers: readonly Observer[];
}

const streamOptionRules: OptionRules<StreamHandlerOptions<unknown, unknown>> = {
  parse: (value) => (isParser(value) ? undefined : 'must be a schema with safeParse (e.g. zod) or a function'),
  key: optionRules.function,
  version: optionRules.function,
  handle: optionRules.function,
  concurrency: optionRules.integerBetween(1, 1000),
  collapse: optionRules.boolean,
  onPoison: optionRules.function,
  observe: optionRules.observers,
};

const asIs = (payload: unknown): unknown => payload;

const versionField = (event: unknown): unknown =>
  typeof event === 'object' && event !== null ? (event as { version?: unknown }).version : undefined;

/** Applies the defaults and checks every option; `where` names the handler in error messages. */
export function resolveStreamOptions<E, Raw>(
  options: StreamHandlerOptions<E, Raw>,
  where: string,
): ResolvedStreamOptions<E, Raw> {
  if (typeof options !== 'object' || options === null) throw invalidOption(where, 'options are required');
  checkOptionValues(options, streamOptionRules as OptionRules<StreamHandlerOptions<E, Raw>>, where);
  if (options.handle === undefined) throw invalidOption(`${where}.handle`, 'must be a function');
  const concurrency = options.concurrency ?? 16;
  const collapse = options.collapse ?? false;
  const observe = options.observe;
  const observers = observe === undefined ? [] : typeof observe === 'function' ? [observe] : [...observe];
  return {
    parse: options.parse ?? (asIs as Parser<E, Raw>),
    key: options.key,
    version: options.version ?? versionField,
    handle: options.handle,
    concurrency,
    collapse,
    onPoison: options.onPoison,
    observers,
  };
}
