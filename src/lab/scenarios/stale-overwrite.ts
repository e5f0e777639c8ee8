/** @module Scenario: concurrent Kinesis consumers with redelivery and reordering let version 41 overwrite 42. */
import type { Scenario } from '../scenario.js';
import { runStreamDelivery } from './stream-delivery.js';

export const staleOverwrite: Scenario = {
  name: 'stale-overwrite',
  summary:
    'Kinesis consumer invocations run concurrently and earlier batches are redelivered late; the get-compare-put consumer lets an older version overwrite a newer one, putIfNewer never does.',
  invariant:
    "no key's version ever goes backwards on the state table's stream, and each key ends at its highest version",
  requires: ['streams', 'kinesis'],
  async run(context) {
    const verdict = await runStreamDelivery(context, {
      keys: 3,
      versions: 6,
      shards: 2,
      batchSize: 3,
      producerDuplicates: 0,
      redeliveries: 0.5,
    });
    return { anomalies: [...verdict.anomalies, ...verdict.log.regressions] };
  },
};
