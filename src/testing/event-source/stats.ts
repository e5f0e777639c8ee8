/** @module What an event source did: invocations, deliveries, redeliveries, discards and injected faults. */

/** Counters of a running event source; `stats()` returns a snapshot. */
export interface EventSourceStats {
  /** Handler invocations, injected ones included. */
  readonly invocations: number;
  /** Records in those invocations (a record delivered twice counts twice). */
  readonly recordsDelivered: number;
  /** Deliveries of a record that had been delivered before: retries, duplicates and concurrent copies. */
  readonly redeliveries: number;
  /** Invocations that failed as a whole: a throw, a malformed response, or an injected lost response. */
  readonly failedInvocations: number;
  /** Invocations that reported some records failed (`batchItemFailures`). */
  readonly partialFailures: number;
  /** Failed batches split in two (`bisectOnError`). */
  readonly bisections: number;
  /** Records handed to `onFailure` (or discarded) after their retries ran out. */
  readonly recordsSentToOnFailure: number;
  /** Faults that were injected. */
  readonly injected: {
    readonly duplicateDeliveries: number;
    readonly lostResponses: number;
    readonly concurrentInvocations: number;
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** The counters, and which records were delivered already (to count redeliveries). */
export class StatsCollector {
  readonly counts: Mutable<EventSourceStats> = {
    invocations: 0,
    recordsDelivered: 0,
    redeliveries: 0,
    failedInvocations: 0,
    partialFailures: 0,
    bisections: 0,
    recordsSentToOnFailure: 0,
    injected: { duplicateDeliveries: 0, lostResponses: 0, concurrentInvocations: 0 },
  };
  readonly #delivered = new Set<string>();

  /** Counts one invocation of records identified by `ids` (unique across shards, such as Lambda's eventID). */
  invocation(ids: readonly string[]): void {
    this.counts.invocations += 1;
    this.counts.recordsDelivered += ids.length;
    for (const id of ids) {
      if (this.#delivered.has(id)) this.counts.redeliveries += 1;
      else this.#delivered.add(id);
    }
  }

  snapshot(): EventSourceStats {
    return { ...this.counts, injected: { ...this.counts.injected } };
  }
}
