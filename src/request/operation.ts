/** @module One call of a primitive in progress: its options, its attempts and resends, its outcome event and error wrapping. */
import { invalidOption, RacesafeError, rejectUnknownOptions } from '../errors.js';
import { emit, type Observer, type OutcomeStatus } from '../observe/events.js';
import { backoffDelay, sleep } from '../retry/backoff.js';
import {
  failureName,
  type RetryOptions,
  type RetryPolicy,
  resendReason,
  retryPolicy,
  sdkAttempts,
} from '../retry/policy.js';
import { callOptionRules } from '../rules/call-options.js';
import type { Item, Table } from '../table.js';

/** Options every primitive takes. */
export interface CallOptions {
  /** Observers for this call, in addition to the table's. @default none */
  readonly observe?: Observer | readonly Observer[];
  /** Fields passed through to every outcome event of this call (e.g. a stream event's id). @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * racesafe's resends after the SDK gave up: throttling (never applied), and, for the writes that recognise their own
   * earlier attempt, failures that may have landed (a connection reset or timeout after sending, a 5xx, the SDK's
   * retry quota spent). Attempts are counted with the SDK's own. @default { maxAttempts: 10, maxTotalMs: 20000, baseMs: 50, capMs: 2000 }
   */
  readonly retry?: RetryOptions;
}

const callOptionFlags: Record<keyof CallOptions, true> = { observe: true, context: true, retry: true };

/** The names of {@link CallOptions}, derived from the interface so that they cannot drift. */
export const callOptionNames: readonly string[] = Object.keys(callOptionFlags);

/** Where an operation's events say it happened: a table, or the tables of a transaction. */
export type OperationScope = Pick<Table, 'name' | 'observers'>;

/**
 * Which failures {@link Operation.send} sends again: `throttled` only (the request was not applied), or also
 * `ambiguous` ones that may have landed. Only a request that recognises its own earlier attempt (a write token, a
 * ClientRequestToken, a lease owner) may use `ambiguous`.
 */
export type Resend = 'throttled' | 'ambiguous';

/** Limits of one {@link Operation.send} other than the call's retry policy. */
export interface SendLimits {
  /** Attempts of this request (the SDK's included) after which it is not sent again. @default the policy's */
  readonly maxAttempts?: number;
  /**
   * The request only reads (a consistent GetItem): resending it after any failure is safe, and its lost responses say
   * nothing about whether the call's writes landed, so they do not set {@link Operation.resent}. @default false
   */
  readonly read?: boolean;
}

/** One call of a primitive in progress: counts requests, resends, emits events. */
export class Operation<S extends OperationScope = Table> {
  readonly #started = performance.now();
  readonly #observers: readonly Observer[];
  readonly #policy: RetryPolicy;
  readonly #tenantId: string | undefined;
  /** Requests sent so far, the SDK's own retries included. */
  attempts = 0;
  /**
   * True once an earlier request of this call may have been applied without this call hearing of it: the SDK
   * retried (its `$metadata.attempts` > 1) or a request failed ambiguously. Classifiers use it to say "may have landed".
   */
  resent = false;
  /** Why the call ended as it did; reported with the outcome event. */
  reason: string | undefined;

  constructor(
    readonly table: S,
    readonly op: string,
    readonly key: Item,
    readonly options: CallOptions,
  ) {
    const own = options.observe;
    this.#observers = own === undefined ? table.observers : table.observers.concat(own);
    this.#policy = retryPolicy(options.retry);
    // A tenant scope's client carries its tenant (racesafe/tenant marks it; not imported here): every event says so.
    const client = (table as { client?: object }).client;
    const mark = client === undefined ? undefined : Reflect.get(client, Symbol.for('racesafe.tenantScope'));
    this.#tenantId = (mark as { tenantId?: string } | undefined)?.tenantId;
  }

  emit(status: OutcomeStatus, reason?: string): void {
    if (this.#observers.length === 0) return;
    emit(this.#observers, {
      op: this.op,
      table: this.table.name,
      key: this.key,
      status,
      attempts: this.attempts,
      latencyMs: performance.now() - this.#started,
      ...(reason === undefined ? {} : { reason }),
      ...(this.options.context === undefined ? {} : { context: this.options.context }),
      ...(this.#tenantId === undefined ? {} : { tenantId: this.#tenantId }),
    });
  }

  /**
   * Sends one logical request; after the SDK gave up, sends it again on throttling and (with `resend: 'ambiguous'`)
   * on failures that may have landed, with capped exponential backoff and full jitter, within the call's
   * {@link RetryOptions}. Every request counts as an attempt, the SDK's retries included.
   */
  async send<T>(request: () => Promise<T>, resend: Resend = 'throttled', limits: SendLimits = {}): Promise<T> {
    const policy = this.#policy;
    const maxAttempts = limits.maxAttempts ?? policy.maxAttempts;
    // The budget is per request (a ClientRequestToken's window is per request), not per call: an optimistic update
    // sends a new request after every conflict, each with a budget of its own.
    const first = performance.now();
    let sent = 0;
    // Once an attempt of this request may have committed (it failed ambiguously, or the SDK sent it more than once and
    // what failed first is not known), a later throttle or error must not be reported as "not applied".
    let mayHaveLanded = false;
    const write = limits.read !== true;
    const resendable: Resend = write ? resend : 'ambiguous';
    for (let round = 0; ; round++) {
      try {
        const result = await request();
        this.#counted(result, write);
        return result;
      } catch (error) {
        const attempts = this.#counted(error, write);
        sent += attempts;
        const why = resendReason(error);
        if (write && (why === 'ambiguous' || attempts > 1)) {
          this.resent = true;
          mayHaveLanded = true;
        }
        const unknown = mayHaveLanded && resendable === 'ambiguous' && !isRefusal(error);
        const allowed = why === 'throttled' || (why === 'ambiguous' && resendable === 'ambiguous');
        if (!allowed) throw unknown ? this.#outcomeUnknown(error, sent, first) : error;
        if (sent >= maxAttempts || performance.now() - first >= policy.maxTotalMs) {
          throw unknown || (why === 'ambiguous' && write) ? this.#outcomeUnknown(error, sent, first) : error;
        }
        this.emit('retried', failureName(error));
        await sleep(backoffDelay(round, policy));
      }
    }
  }

  #counted(responseOrError: unknown, write: boolean): number {
    const attempts = sdkAttempts(responseOrError);
    this.attempts += attempts;
    if (write && attempts > 1) this.resent = true;
    return attempts;
  }

  #outcomeUnknown(error: unknown, sent: number, first: number): RacesafeError<'write.outcomeUnknown'> {
    const elapsedMs = Math.round(performance.now() - first);
    return new RacesafeError(
      'write.outcomeUnknown',
      `${this.op} on ${this.table.name}: no answer after ${sent} attempts in ${elapsedMs} ms; the write was applied once or not at all (never twice)`,
      { operation: this.op, attempts: this.attempts, elapsedMs },
      error,
    );
  }

  /** Runs the call: emits its outcome, and wraps anything that is not a RacesafeError as `service.failure`. */
  async run<R extends { status: OutcomeStatus }>(body: () => Promise<R>): Promise<R> {
    try {
      const result = await body();
      this.emit(result.status, this.reason);
      return result;
    } catch (error) {
      const wrapped = serviceFailure(this.op, this.table.name, this.attempts, error);
      this.emit(statusOfError(wrapped), wrapped.message);
      throw wrapped;
    }
  }
}

/**
 * The service's answer that it refused the request (a failed condition, a cancelled transaction): it goes to the
 * caller's classifier, which knows how to read it after a resend.
 */
function isRefusal(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/**
 * A RacesafeError as it is; anything else (an SDK or network error) wrapped as `service.failure` with the operation,
 * its attempts and the original error as `cause`. The one place this wrapping is written.
 */
export function serviceFailure(op: string, tableName: string, attempts: number, error: unknown): RacesafeError {
  if (error instanceof RacesafeError) return error;
  return new RacesafeError(
    'service.failure',
    `${op} on ${tableName} failed: ${error instanceof Error ? error.message : String(error)}`,
    { operation: op, attempts },
    error,
  );
}

function statusOfError(error: RacesafeError): OutcomeStatus {
  if (error.is('write.conflict')) return 'conflict';
  if (error.is('transaction.cancelled')) return 'cancelled';
  return 'error';
}

/**
 * Validates the options of a primitive: its own names plus the shared call options, whose values are checked by
 * `callOptionRules` (src/rules/call-options.ts). A primitive checks its own options' values itself.
 */
export function checkOptions(options: object | undefined, own: readonly string[], where: string): void {
  // Every primitive call runs this: the combined list (for the error message) is built only when a name is unknown.
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(where, 'options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!own.includes(name) && !callOptionNames.includes(name)) {
      rejectUnknownOptions(options, [...own, ...callOptionNames], where);
    }
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const broken = (callOptionRules as Record<string, ((value: unknown) => string | undefined) | undefined>)[name]?.(
      value,
    );
    if (broken !== undefined) throw invalidOption(`${where}.${name}`, broken);
  }
}
