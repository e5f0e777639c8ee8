/** @module Reads a stream handler's result the way Lambda reads a partial batch response (ReportBatchItemFailures). */

/** What Lambda makes of one invocation of a batch of `n` records. */
export type BatchVerdict =
  /** Every record is done: Lambda checkpoints after the last one. */
  | { readonly kind: 'success' }
  /** Records before `failedIndex` are done; Lambda checkpoints there and retries from that record on. */
  | { readonly kind: 'partial'; readonly failedIndex: number; readonly reason: string }
  /** The whole batch failed (a throw, or a response Lambda cannot read). */
  | { readonly kind: 'failure'; readonly reason: string };

/**
 * Lambda's rules ("Configuring partial batch response with Kinesis Data Streams and Lambda"):
 * - complete success: a null or empty response, or a null or empty `batchItemFailures` list;
 * - complete failure: an `itemIdentifier` that is null, an empty string, or under a wrong key name;
 * - otherwise the checkpoint is the LOWEST reported sequence number, and every record from it on is retried.
 *
 * Not documented, and read here as a failure too (Lambda cannot checkpoint at it): a `batchItemFailures` that is not a
 * list, and an identifier that names no record of the batch.
 *
 * @param sequenceNumbers the batch's sequence numbers, in delivery order.
 * @example
 * ```ts
 * import { readBatchResponse } from 'racesafe/testing';
 *
 * readBatchResponse({ batchItemFailures: [{ itemIdentifier: '7' }] }, ['5', '6', '7', '8']);
 * // { kind: 'partial', failedIndex: 2, reason: … }
 * ```
 */
export function readBatchResponse(response: unknown, sequenceNumbers: readonly string[]): BatchVerdict {
  if (response === undefined || response === null) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { kind: 'failure', reason: `malformed batch response: expected an object, got ${describe(response)}` };
  }
  if (!('batchItemFailures' in response)) return { kind: 'success' };
  const failures = response.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'failure', reason: `malformed batch response: batchItemFailures is ${describe(failures)}` };
  }
  if (failures.length === 0) return { kind: 'success' };
  let failedIndex = Number.POSITIVE_INFINITY;
  for (const failure of failures as unknown[]) {
    const identifier =
      typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure
        ? failure.itemIdentifier
        : undefined;
    if (typeof identifier !== 'string' || identifier === '') {
      return {
        kind: 'failure',
        reason: `malformed batch response: an item failure has no itemIdentifier (${describe(failure)})`,
      };
    }
    const index = sequenceNumbers.indexOf(identifier);
    if (index === -1) {
      return { kind: 'failure', reason: `malformed batch response: itemIdentifier ${identifier} is not in the batch` };
    }
    failedIndex = Math.min(failedIndex, index);
  }
  return {
    kind: 'partial',
    failedIndex,
    reason: `the function reported ${failures.length} failed item(s), the lowest at sequence number ${sequenceNumbers[failedIndex]}`,
  };
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
