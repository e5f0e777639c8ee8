/** @module racesafe: race-safe writes to Amazon DynamoDB under concurrency, retries and duplicate delivery. */

export type { ShardedCounter, ShardedCounterOptions } from './counter/sharded-counter.js';
export { shardedCounter } from './counter/sharded-counter.js';
export type { CancellationReason, RacesafeErrorCode, RacesafeErrorDetails } from './errors.js';
export { RacesafeError } from './errors.js';
export type { Guard, GuardRule } from './expression/guard.js';
export type { Changes, UpdateOperation } from './expression/update.js';
export { append, decrement, increment, remove, setIfNotExists } from './expression/update.js';
export type { CachedOptions } from './lease/cached.js';
export { cached } from './lease/cached.js';
export type { Clock, ManualClock } from './lease/clock.js';
export { manualClock, systemClock } from './lease/clock.js';
export type { IdempotentHandlerOptions, IdempotentOptions } from './lease/idempotent.js';
export { idempotent, idempotentHandler } from './lease/idempotent.js';
export type {
  AcquireLeaseOptions,
  AcquireOutcome,
  CompleteLeaseOptions,
  CompleteOutcome,
  Lease,
  LeaseLost,
  LeaseOptions,
  LeaseResult,
  ReadLeaseOptions,
  ReleaseOutcome,
  RenewOutcome,
} from './lease/lease.js';
export { acquireLease, completeLease, readLease, releaseLease, renewLease } from './lease/lease.js';
export { payloadHash } from './lease/payload.js';
export type { LeaseRecord, StoredError } from './lease/record.js';
export { LeaseState, leaseAttributes } from './lease/record.js';
export type { PollOptions } from './lease/wait.js';
export type { Observer, OutcomeEvent, OutcomeStatus } from './observe/events.js';
export { conditionFailureStatuses } from './observe/events.js';
export type {
  LoggerLike,
  LoggerObserverOptions,
  LogLevel,
  MetricsLike,
  MetricsObserverOptions,
} from './observe/powertools.js';
export { powertoolsLogger, powertoolsMetrics } from './observe/powertools.js';
export type { TracerLike, TracerObserverOptions } from './observe/tracer.js';
export { powertoolsTracer } from './observe/tracer.js';
export type { CallOptions } from './request/operation.js';
export type { BackoffOptions } from './retry/backoff.js';
export type { KeyType } from './rules/keys.js';
export { compareUtf8 } from './rules/order.js';
export type { Item, Table, TableOptions, Version } from './table.js';
export { defineTable, describeTable, maxItemBytes, orderedVersion } from './table.js';
export type { CommitOptions, CommitResult, PutActionOptions, TransactionBuilder } from './transaction/builder.js';
export { transaction, transactionLimits } from './transaction/builder.js';
export type { DeleteIfNotNewerOptions } from './write/delete-if-not-newer.js';
export { deleteIfNotNewer } from './write/delete-if-not-newer.js';
export type { GetCurrentOptions } from './write/get-current.js';
export { getCurrent } from './write/get-current.js';
export type { GuardedUpdateInput } from './write/guarded-update.js';
export { guardedUpdate } from './write/guarded-update.js';
export type { DeleteOutcome, GuardedOutcome, WriteOutcome } from './write/outcome.js';
export { putIfNewer } from './write/put-if-newer.js';
export { updateIfNewer } from './write/update-if-newer.js';
export type { LockOutcome, Mutate, UpdateWithLockOptions } from './write/update-with-lock.js';
export { noChange, updateWithLock } from './write/update-with-lock.js';
