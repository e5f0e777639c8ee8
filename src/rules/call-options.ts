/** @module The value rules of the options every primitive takes (CallOptions), and their check with a primitive's own. */
import type { CallOptions } from '../request/operation.js';
import type { BackoffOptions } from '../retry/backoff.js';
import { checkOptionValues, type OptionRules, optionRules } from './options.js';

/** Rules of `baseMs` and `capMs`: finite milliseconds, 0 or more. */
export const backoffRules: OptionRules<BackoffOptions> = {
  baseMs: optionRules.nonNegativeNumber,
  capMs: optionRules.nonNegativeNumber,
};

export const callOptionRules: OptionRules<CallOptions> = {
  observe: optionRules.observers,
  context: optionRules.record,
  // retryPolicy (src/retry/policy.ts) checks every retry option's type and range, naming it `retry.<name>`.
  retry: optionRules.any,
};

/**
 * Checks a primitive's options: the call options every primitive takes plus its own, by name and value.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from '../rules/call-options.js';
 *
 * checkCallOptions({ retry: { maxAttempts: 2 } }, {}, 'putIfNewer');
 * ```
 */
export function checkCallOptions<T extends CallOptions>(
  options: T | undefined,
  own: OptionRules<Omit<T, keyof CallOptions>>,
  where: string,
): void {
  checkOptionValues(options, { ...callOptionRules, ...own } as OptionRules<T>, where);
}
