/** @module Options shared by the Kinesis and DynamoDB Streams event sources: documented defaults, applied and checked once. */
import type { Handler } from 'aws-lambda';
import { invalidOption, rejectUnknownOptions } from '../../errors.js';

/** What Lambda would send to an on-failure destination, plus what a test wants to see (the records, the reason). */
export interface EventSourceFailure<R> {
  /** Lambda's condition for discarding the records. */
  readonly condition: 'RetryAttemptsExhausted';
  /** Why the last invocation failed: the thrown error's message, a malformed response, or the reported failure. */
  readonly reason: string;
  /** The error the handler threw on its last invocation, when it threw. */
  readonly error: unknown;
  /** How many times these records were invoked, the first time included. */
  readonly approximateInvokeCount: number;
  readonly shardId: string;
  readonly streamArn: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** ISO-8601, as in Lambda's `KinesisBatchInfo` / `DDBStreamBatchInfo`. */
  readonly approximateArrivalOfFirstRecord: string;
  readonly approximateArrivalOfLastRecord: string;
  readonly batchSize: number;
  /** The discarded records, exactly as they were delivered to the handler. */
  readonly records: readonly R[];
}

/** Seeded faults of the kind production delivers, each a probability per invocation. */
export interface EventSourceFaults {
  /** Seed of the fault draws, so a run replays. @default 1 */
  readonly seed?: number;
  /** After a successful invocation, the same batch is delivered again (a lost checkpoint). @default 0 */
  readonly duplicateDelivery?: number;
  /**
   * A successful invocation is treated as failed, as if its response was lost (a timeout after the work was done):
   * the whole batch is retried, counting against `maxRetries`. @default 0
   */
  readonly lostResponse?: number;
  /** The same batch is invoked twice at once, overlapping (a retry racing a still-running invocation). @default 0 */
  readonly concurrentInvocation?: number;
}

/** Options of both event sources; Lambda's own parameter names are given in each field's doc. */
export interface EventSourceOptions<E, R, F> {
  /** The Lambda handler. It may return a partial batch response (`batchItemFailures`). */
  // biome-ignore lint/suspicious/noConfusingVoidType: the same type as @types/aws-lambda's KinesisStreamHandler and DynamoDBStreamHandler.
  readonly handler: Handler<E, F | void>;
  /** Largest number of records in one invocation (`BatchSize`). @default 100 */
  readonly batchSize?: number;
  /**
   * Batches of one shard processed at once (`ParallelizationFactor`, 1 to 10). Records are spread over the concurrent
   * processors by a hash of their partition key, so one key's records stay in order. @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch before its records go to `onFailure` (`MaximumRetryAttempts`); -1 retries forever.
   * Lambda's default is -1 (until the record expires), which locally would never end on a poison record. @default 3
   */
  readonly maxRetries?: number;
  /** Split a batch that failed as a whole in two halves, and retry each (`BisectBatchOnFunctionError`). @default false */
  readonly bisectOnError?: boolean;
  /** Where records go once their retries are exhausted (`DestinationConfig.OnFailure`). @default discard them, as Lambda does without a destination */
  readonly onFailure?: (failure: EventSourceFailure<R>) => void | Promise<void>;
  /** Where to start reading each shard that exists at start (`StartingPosition`); child shards start at their beginning. @default 'TRIM_HORIZON' */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Pause between reads of a caught-up shard, in ms (Lambda polls each shard about once a second). @default 20 */
  readonly pollIntervalMs?: number;
  /** Faults to inject. @default none */
  readonly faults?: EventSourceFaults;
  /** What `context.getRemainingTimeInMillis()` counts down from (`Timeout`); nothing is interrupted. @default 60000 */
  readonly timeoutMs?: number;
}

/** The options with every default applied. */
export interface ResolvedEventSourceOptions<E, R, F> {
  readonly handler: EventSourceOptions<E, R, F>['handler'];
  readonly batchSize: number;
  readonly parallelizationFactor: number;
  readonly maxRetries: number;
  readonly bisectOnError: boolean;
  readonly onFailure: ((failure: EventSourceFailure<R>) => void | Promise<void>) | undefined;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly faults: Required<EventSourceFaults>;
}

export const eventSourceOptionNames = [
  'handler',
  'batchSize',
  'parallelizationFactor',
  'maxRetries',
  'bisectOnError',
  'onFailure',
  'startingPosition',
  'pollIntervalMs',
  'faults',
  'timeoutMs',
] as const;

const faultNames = ['seed', 'duplicateDelivery', 'lostResponse', 'concurrentInvocation'] as const;

/** Applies the defaults and checks ranges; `where` names the function in error messages. */
export function resolveEventSourceOptions<E, R, F>(
  options: EventSourceOptions<E, R, F>,
  where: string,
): ResolvedEventSourceOptions<E, R, F> {
  if (typeof options.handler !== 'function') throw invalidOption(`${where}.handler`, 'must be a function');
  rejectUnknownOptions(options.faults, faultNames, `${where}.faults`);
  const batchSize = options.batchSize ?? 100;
  const parallelizationFactor = options.parallelizationFactor ?? 1;
  const maxRetries = options.maxRetries ?? 3;
  const pollIntervalMs = options.pollIntervalMs ?? 20;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const startingPosition = options.startingPosition ?? 'TRIM_HORIZON';
  // Lambda's limits: BatchSize up to 10,000 (Kinesis; 1,000 for DynamoDB Streams, whose GetRecords also caps at 1,000).
  requireInteger(batchSize, 1, 10_000, `${where}.batchSize`);
  requireInteger(parallelizationFactor, 1, 10, `${where}.parallelizationFactor`);
  requireInteger(maxRetries, -1, 10_000, `${where}.maxRetries`);
  requireInteger(pollIntervalMs, 0, 60_000, `${where}.pollIntervalMs`);
  requireInteger(timeoutMs, 1, 900_000, `${where}.timeoutMs`);
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') {
    throw invalidOption(`${where}.startingPosition`, "must be 'TRIM_HORIZON' or 'LATEST'");
  }
  const faults = {
    seed: options.faults?.seed ?? 1,
    duplicateDelivery: options.faults?.duplicateDelivery ?? 0,
    lostResponse: options.faults?.lostResponse ?? 0,
    concurrentInvocation: options.faults?.concurrentInvocation ?? 0,
  };
  requireInteger(faults.seed, 0, 2 ** 32 - 1, `${where}.faults.seed`);
  for (const name of ['duplicateDelivery', 'lostResponse', 'concurrentInvocation'] as const) {
    const probability = faults[name];
    if (!(probability >= 0 && probability <= 1)) {
      throw invalidOption(`${where}.faults.${name}`, 'must be a probability from 0 to 1');
    }
  }
  return {
    handler: options.handler,
    batchSize,
    parallelizationFactor,
    maxRetries,
    bisectOnError: options.bisectOnError ?? false,
    onFailure: options.onFailure,
    startingPosition,
    pollIntervalMs,
    timeoutMs,
    faults,
  };
}

function requireInteger(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(field, `must be an integer from ${min} to ${max}`);
  }
}
