/** @module The one error class of racesafe: a typed `code`, a payload that narrows by code, and the `cause`. */

/** Why a transaction action was cancelled, decoded from DynamoDB's `CancellationReasons`. */
export interface CancellationReason {
  /** The action's position in the transaction, from 0. */
  readonly index: number;
  readonly table: string;
  readonly key: Record<string, unknown>;
  /** DynamoDB's reason code: `ConditionalCheckFailed`, `TransactionConflict`, `ThrottlingError`, `ValidationError`, `None`, … */
  readonly code: string;
  readonly message: string | undefined;
  /** The stored item (unmarshalled), when the action asked for it and its condition failed. */
  readonly item: Record<string, unknown> | undefined;
}

/** Payload of each error code. Match with `error instanceof RacesafeError && error.code === '…'`, never by message. */
export interface RacesafeErrorDetails {
  /** Bad input, caught before any request was sent. */
  'validation.invalidInput': { readonly field: string; readonly rule: string };
  /** An option that is unknown or out of range. */
  'validation.invalidOption': { readonly field: string; readonly rule: string };
  /**
   * The stored item's version is of a kind this write cannot continue (updateWithLock counts versions up and needs a
   * number, not an ordered string): nothing was written.
   */
  'write.incompatibleVersion': { readonly field: string; readonly stored: unknown };
  /** Optimistic retries ran out. */
  'write.conflict': { readonly attempts: number; readonly lastSeen: Record<string, unknown> | undefined };
  /** A transaction was cancelled; `reasons` has one entry per action, in order. */
  'transaction.cancelled': { readonly reasons: readonly CancellationReason[]; readonly attempts: number };
  /**
   * A write that may have landed got no answer however often racesafe resent it (within its retry policy): it was
   * applied once or not at all, never twice. Read the item to see which, before deciding to write again.
   */
  'write.outcomeUnknown': { readonly operation: string; readonly attempts: number; readonly elapsedMs: number };
  /** DynamoDB or the network failed in a way the caller must handle (wrapped with `cause`). */
  'service.failure': { readonly operation: string; readonly attempts: number };
  /** A local engine could not be started. */
  'engine.unavailable': Record<string, never>;
  /** A local event-source runner was stopped before `drain()` saw every shard caught up. */
  'eventSource.stopped': Record<string, never>;
  /** Another caller holds the key's lease: `onInProgress: 'fail'`, or waiting for its result ran out of time. */
  'lease.inProgress': { readonly key: Record<string, unknown>; readonly leaseUntil: number; readonly waitedMs: number };
  /**
   * A holder's lease is no longer its own (the reason of the `AbortSignal` handed to the work): `takenOver`, a renewal
   * was refused because another holder has it now; `expired`, no renewal landed before the lease ended by the holder's
   * clock, so another may have taken it over. Stop the work: its result will be refused if the lease was taken over.
   */
  'lease.lost': {
    readonly key: Record<string, unknown>;
    readonly fencingToken: number;
    readonly reason: 'takenOver' | 'expired';
  };
  /** The loader of a cache fill failed: the callers that waited for that fill (and, for `errorTtl`, later ones) get this. */
  'cache.loaderFailed': { readonly key: Record<string, unknown>; readonly name: string; readonly message: string };
  /** The same idempotency key arrived with a different payload. */
  'idempotency.payloadMismatch': {
    readonly key: Record<string, unknown>;
    readonly storedHash: string;
    readonly payloadHash: string;
  };
  /** The first call failed and `onError: 'store'` kept its failure: replays report it instead of running again. */
  'idempotency.storedError': { readonly key: Record<string, unknown>; readonly name: string; readonly message: string };
  /**
   * A request through a tenant scope would reach outside the tenant (another tenant's key, another table, a Scan, an
   * expression the scope cannot confine): refused before anything was sent. `field` names what was refused.
   */
  'tenant.crossTenant': { readonly tenantId: string; readonly field: string; readonly rule: string };
  /** A tenant-isolated handler was invoked without a tenant id (`context.tenantId`): refused, fail closed. */
  'tenant.missingTenantId': Record<string, never>;
}

export type RacesafeErrorCode = keyof RacesafeErrorDetails;

/**
 * Every error racesafe throws.
 *
 * @example
 * ```ts
 * import { RacesafeError } from 'racesafe';
 *
 * function describe(error: unknown): string {
 *   if (error instanceof RacesafeError && error.is('write.conflict')) return `gave up after ${error.details.attempts}`;
 *   return String(error);
 * }
 * ```
 */
export class RacesafeError<C extends RacesafeErrorCode = RacesafeErrorCode> extends Error {
  override readonly name = 'RacesafeError';
  readonly code: C;
  readonly details: RacesafeErrorDetails[C];

  constructor(code: C, message: string, details: RacesafeErrorDetails[C], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  /** Narrows the error (and its `details`) to one code. */
  is<K extends RacesafeErrorCode>(code: K): this is RacesafeError<K> {
    return (this.code as RacesafeErrorCode) === code;
  }
}

/** A validation error naming the field and the rule it broke. */
export function invalidInput(field: string, rule: string): RacesafeError<'validation.invalidInput'> {
  return new RacesafeError('validation.invalidInput', `${field}: ${rule}`, { field, rule });
}

/** An option error naming the option and what it accepts. */
export function invalidOption(field: string, rule: string): RacesafeError<'validation.invalidOption'> {
  return new RacesafeError('validation.invalidOption', `option ${field}: ${rule}`, { field, rule });
}

/** Rejects keys of an options object that the feature does not know, listing the ones it does. */
export function rejectUnknownOptions(options: object | undefined, allowed: readonly string[], where: string): void {
  if (options === undefined) return;
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name))
      throw invalidOption(`${where}.${name}`, `unknown option; allowed: ${allowed.join(', ')}`);
  }
}
