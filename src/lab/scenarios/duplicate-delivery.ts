/** @module Scenario: duplicates from the producer and from redelivery must put no extra record on the state table's stream. */
import type { Scenario } from '../scenario.js';
import { runStreamDelivery } from './stream-delivery.js';

export const duplicateDelivery: Scenario = {
  name: 'duplicate-delivery',
  summary:
    "The producer publishes some events twice and batches are delivered twice; the get-compare-put consumer writes a duplicate again, putting an extra record on the state table's stream for downstream consumers, putIfNewer writes each version once.",
  invariant:
    "each version of each key appears once on the state table's stream, and each key ends at its highest version",
  requires: ['streams', 'kinesis'],
  async run(context) {
    const verdict = await runStreamDelivery(context, {
      keys: 3,
      versions: 4,
      shards: 1,
      batchSize: 4,
      producerDuplicates: 0.3,
      redeliveries: 0.7,
    });
    return { anomalies: [...verdict.anomalies, ...verdict.log.rewrites] };
  },
};
