/** @module Capped exponential backoff with full jitter, and which AWS errors are worth retrying. */
import { isThrottlingError } from '@smithy/core/retry';

export interface BackoffOptions {
  /** Delay scale of the first retry, in ms. @default 20 */
  readonly baseMs?: number;
  /** Largest delay, in ms. @default 1000 */
  readonly capMs?: number;
}

/**
 * "Full jitter": a uniform delay in [0, min(cap, base * 2^retry)). Spreading retries over the whole window is what
 * stops contending writers from colliding again in lockstep (AWS Architecture Blog, "Exponential Backoff And Jitter").
 *
 * @param retry 0 for the first retry.
 */
export function backoffDelay(retry: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const baseMs = options.baseMs ?? 20;
  const capMs = options.capMs ?? 1000;
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The AWS error's name (`error.name` is the service's exception type in SDK v3), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}

/**
 * Throttling: the request was not applied and the same request may be sent again after a pause. The SDK's own
 * classifier decides (`isThrottlingError` from `@smithy/core/retry`: HTTP 429, its list of throttling error codes, or
 * the error's `$retryable.throttling` trait), so racesafe and the SDK's retry strategy agree on what throttling is.
 */
export function isThrottling(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && isThrottlingError(error as Parameters<typeof isThrottlingError>[0])
  );
}

/** A write's condition expression evaluated to false. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return awsErrorName(error) === 'ConditionalCheckFailedException';
}
