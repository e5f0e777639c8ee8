/** @module racesafe's own resend policy: which failures it sends again, how often and for how long, on top of the SDK's retries. */
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import { awsErrorName, type BackoffOptions, isThrottling } from './backoff.js';

/**
 * How racesafe resends a request after the AWS SDK has given up on it (its attempts or its client-wide retry quota ran
 * out). Every attempt counts, the SDK's own included (read from the error's `$metadata.attempts`), so racesafe's
 * resends add to the SDK's instead of multiplying them: one request is sent at most `maxAttempts` times, plus at most
 * the SDK's own retries of the last resend (with the SDK's standard strategy: 3 more), and is not resent later than
 * `maxTotalMs` after it was first sent. The budget is per request: an optimistic update sends a new request after each
 * conflict, each with its own budget (its own `maxAttempts` bounds those).
 */
export interface RetryOptions {
  /** Sends of one request before giving up, the SDK's own retries included. @default 10 */
  readonly maxAttempts?: number;
  /**
   * No resend starts later than this after the request was first sent. Far inside DynamoDB's 10-minute window for a
   * ClientRequestToken, so a resent transaction is always recognised. @default 20000
   */
  readonly maxTotalMs?: number;
  /** Delay scale of the first resend (full jitter). @default 50 */
  readonly baseMs?: BackoffOptions['baseMs'];
  /** Largest delay between resends. @default 2000 */
  readonly capMs?: BackoffOptions['capMs'];
}

/** {@link RetryOptions} with defaults applied (once, here). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly maxTotalMs: number;
  readonly baseMs: number;
  readonly capMs: number;
}

const retryOptionNames: Record<keyof RetryOptions, true> = {
  maxAttempts: true,
  maxTotalMs: true,
  baseMs: true,
  capMs: true,
};

/** The default policy: 10 requests within 20 s, 50 ms to 2 s apart. */
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 10, maxTotalMs: 20_000, baseMs: 50, capMs: 2000 };

/** Validates {@link RetryOptions} and applies the defaults. */
export function retryPolicy(options: RetryOptions | undefined, field = 'retry'): RetryPolicy {
  if (options === undefined) return defaultRetryPolicy;
  if (typeof options !== 'object' || options === null) throw invalidOption(field, 'must be an object');
  rejectUnknownOptions(options, Object.keys(retryOptionNames), field);
  const policy = {
    maxAttempts: options.maxAttempts ?? defaultRetryPolicy.maxAttempts,
    maxTotalMs: options.maxTotalMs ?? defaultRetryPolicy.maxTotalMs,
    baseMs: options.baseMs ?? defaultRetryPolicy.baseMs,
    capMs: options.capMs ?? defaultRetryPolicy.capMs,
  };
  if (!Number.isSafeInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw invalidOption(`${field}.maxAttempts`, 'must be a whole number >= 1');
  }
  // A resend after 10 minutes could apply a transaction twice: DynamoDB forgets its ClientRequestToken by then.
  if (!Number.isSafeInteger(policy.maxTotalMs) || policy.maxTotalMs < 0 || policy.maxTotalMs > 300_000) {
    throw invalidOption(`${field}.maxTotalMs`, 'must be a whole number of milliseconds from 0 to 300000 (5 minutes)');
  }
  for (const name of ['baseMs', 'capMs'] as const) {
    if (!Number.isSafeInteger(policy[name]) || policy[name] < 0) {
      throw invalidOption(`${field}.${name}`, 'must be a whole number of milliseconds >= 0');
    }
  }
  return policy;
}

/**
 * Why a failed request may be sent again:
 * - `throttled`: the service refused it without applying it;
 * - `ambiguous`: it may or may not have been applied (the connection broke or timed out after sending, a 5xx, or
 *   DynamoDB is still running a transaction with the same ClientRequestToken). Only a request that recognises its
 *   own earlier attempt may be resent after this.
 */
export type ResendReason = 'throttled' | 'ambiguous';

/** Node.js socket errors the SDK treats as transient; after sending, the request may have landed. */
const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']);

const ambiguousNames = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  // Another request with the same ClientRequestToken is still running: ask again once it has finished.
  'TransactionInProgressException',
]);

/** Cancellation reasons for which the same transaction, sent again, can succeed; it was not applied. */
const transientCancellationCodes = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * Whether (and why) a failed request may be sent again; undefined for failures that sending again cannot mend. A
 * transaction cancelled only by conflicts with other transactions or by throttling counts as throttled: nothing of it
 * was applied.
 */
export function resendReason(error: unknown): ResendReason | undefined {
  if (isThrottling(error)) return 'throttled';
  if (typeof error !== 'object' || error === null) return undefined;
  const name = awsErrorName(error);
  if (name === 'TransactionConflictException') return 'throttled';
  if (name === 'TransactionCanceledException') return isTransientCancellation(error) ? 'throttled' : undefined;
  if (name !== undefined && ambiguousNames.has(name)) return 'ambiguous';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && networkCodes.has(code)) return 'ambiguous';
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500 && status <= 599) return 'ambiguous';
  return undefined;
}

function isTransientCancellation(error: object): boolean {
  const reasons = (error as { CancellationReasons?: unknown }).CancellationReasons;
  if (!Array.isArray(reasons)) return false;
  const failing = reasons.filter((reason: { Code?: unknown }) => reason?.Code !== 'None');
  return (
    failing.length > 0 &&
    failing.every((reason: { Code?: unknown }) => transientCancellationCodes.has(String(reason?.Code)))
  );
}

/** A failure as an event's reason: the error's name, and for a cancelled transaction its reason codes. */
export function failureName(error: unknown): string | undefined {
  const name = awsErrorName(error);
  const reasons = (error as { CancellationReasons?: unknown } | undefined)?.CancellationReasons;
  if (name !== 'TransactionCanceledException' || !Array.isArray(reasons)) return name;
  return `${name} [${reasons.map((reason: { Code?: unknown }) => String(reason?.Code)).join(', ')}]`;
}

/** How many requests the SDK sent for one `client.send()` (its retries included), from a response or an error. */
export function sdkAttempts(responseOrError: unknown): number {
  const attempts = (responseOrError as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts >= 1 ? attempts : 1;
}
