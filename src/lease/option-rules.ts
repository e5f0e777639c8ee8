/** @module The value rules of every lease option, one table per options interface (so none can be forgotten). */
import type { OptionRule, OptionRules } from '../rules/options.js';
import { optionRules } from '../rules/options.js';
import type { CachedOptions } from './cached.js';
import type { HeartbeatOptions } from './heartbeat.js';
import type { IdempotentOptions } from './idempotent.js';
import type { AcquireLeaseOptions, CompleteLeaseOptions, LeaseOptions, ReadLeaseOptions } from './lease.js';
import type { PollOptions } from './wait.js';

/** Own options only: the call options (observe, context, retry) are added by `checkCallOptions`. */
type Own<T> = Omit<T, 'observe' | 'context' | 'retry'>;

const clockRule: OptionRule = (value) =>
  typeof (value as { now?: unknown } | null)?.now === 'function' ? undefined : 'must have a now() method';

export const pollRules: OptionRules<PollOptions> = {
  firstDelayMs: optionRules.positiveInteger,
  capMs: optionRules.positiveInteger,
  maxWaitMs: optionRules.nonNegativeInteger,
};

export const leaseRules: OptionRules<Own<LeaseOptions>> = {
  leaseMs: optionRules.positiveInteger,
  clock: clockRule,
  // leaseSettings also refuses the key and lease attributes.
  ttlAttribute: optionRules.attributeName,
  retainMs: optionRules.nonNegativeInteger,
};

export const acquireLeaseRules: OptionRules<Own<AcquireLeaseOptions>> = {
  ...leaseRules,
  payloadHash: optionRules.nonEmptyString,
};

export const completeLeaseRules: OptionRules<Own<CompleteLeaseOptions>> = {
  ...leaseRules,
  validForMs: optionRules.nonNegativeInteger,
};

export const readLeaseRules: OptionRules<Own<ReadLeaseOptions>> = { consistent: optionRules.boolean };

const heartbeatRules: OptionRules<HeartbeatOptions> = { heartbeatMs: optionRules.nonNegativeInteger };

export const idempotentRules: OptionRules<Own<IdempotentOptions<never>>> = {
  ...leaseRules,
  ...heartbeatRules,
  // The table, the enumerations and validatePayload are checked where they are read, with their own messages.
  table: optionRules.any,
  key: optionRules.function,
  ttl: optionRules.positiveInteger,
  onInProgress: optionRules.any,
  validatePayload: optionRules.any,
  onError: optionRules.any,
  poll: optionRules.object(pollRules),
};

export const cachedRules: OptionRules<Own<CachedOptions>> = {
  ...leaseRules,
  ...heartbeatRules,
  ttl: optionRules.positiveInteger,
  errorTtl: optionRules.nonNegativeInteger,
  staleWhileRevalidate: optionRules.nonNegativeInteger,
  poll: optionRules.object(pollRules),
  consistentRead: optionRules.boolean,
};
