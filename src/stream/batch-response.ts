/** @module The partial batch response: which records Lambda must deliver again, by each source's rule. */
import type { SourceRecord } from './record.js';

/** One entry of `batchItemFailures`, the shape all three sources share. */
export interface BatchItemFailure {
  readonly itemIdentifier: string;
}

/**
 * The `batchItemFailures` for a batch whose records at `failed` (batch indexes) were not handled, in batch order.
 *
 * - Kinesis and DynamoDB Streams: the failed sequence numbers. Lambda checkpoints at the lowest one and redelivers
 *   every record after it, handled or not (Lambda developer guide, "Reporting batch item failures"); versioned writes
 *   and `applyOnce` make that redelivery harmless.
 * - SQS standard: the failed message ids; only those are redelivered.
 * - SQS FIFO: the failed message and every later message of its group, so the group is redelivered in order. Lanes
 *   already stop a group at its first failure; this rule holds even if they did not.
 */
export function batchItemFailures(
  records: readonly SourceRecord<unknown>[],
  failed: ReadonlySet<number>,
): BatchItemFailure[] {
  const failedGroups = new Set<string>();
  const failures: BatchItemFailure[] = [];
  for (const record of records) {
    const group = record.orderGroup;
    let fails = failed.has(record.index);
    if (group !== undefined) {
      fails ||= failedGroups.has(group);
      if (fails) failedGroups.add(group);
    }
    if (fails) failures.push({ itemIdentifier: record.itemIdentifier });
  }
  return failures;
}
