/** @module Outcome events: every write reports what happened, so races that were closed are counted, not hidden. */

/** Every status an operation can end with, plus `retried` for each retry on the way. */
export type OutcomeStatus =
  | 'applied'
  | 'stale'
  | 'duplicate'
  | 'rejected'
  | 'missing'
  | 'unchanged'
  | 'conflict'
  | 'cancelled'
  | 'retried'
  | 'error'
  // Lease outcomes (src/lease): who holds a key, and a zombie's refused write.
  | 'acquired'
  | 'busy'
  | 'completed'
  | 'renewed'
  | 'released'
  | 'lost';

/** One event per outcome (and one per retry). */
export interface OutcomeEvent {
  /** The primitive, e.g. `putIfNewer`. */
  readonly op: string;
  readonly table: string;
  readonly key: Readonly<Record<string, unknown>>;
  readonly status: OutcomeStatus;
  /**
   * Requests sent so far for this call, the SDK's own retries included. On the happy path: 1 for putIfNewer,
   * updateIfNewer and deleteIfNotNewer; 2 for guardedUpdate (the transaction, then the consistent read of the item)
   * and updateWithLock (the consistent read, then the transaction).
   */
  readonly attempts: number;
  readonly latencyMs: number;
  /** Why: the failed guard, the version comparison, the error. */
  readonly reason?: string;
  /** Caller-supplied fields (for example a stream event's id and sequence number), passed through untouched. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The tenant, when the table is a tenant scope (`racesafe/tenant`); `key` is then the tenant's own key, unprefixed. */
  readonly tenantId?: string;
}

/** Receives outcome events. It runs inline: keep it cheap; what it throws is caught and ignored. */
export type Observer = (event: OutcomeEvent) => void;

/** The condition-failure family: writes DynamoDB refused on purpose. Worth a dashboard of its own. */
export const conditionFailureStatuses: ReadonlySet<OutcomeStatus> = new Set([
  'stale',
  'duplicate',
  'rejected',
  'conflict',
]);

/** Calls each observer; an observer that throws never breaks the write it observes. */
export function emit(observers: readonly Observer[], event: OutcomeEvent): void {
  for (const observer of observers) {
    try {
      observer(event);
    } catch {
      // Deliberately ignored: observability must not change the outcome.
    }
  }
}
