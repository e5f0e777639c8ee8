/** @module The value rules of the options every primitive takes (CallOptions), and their check with a primitive's own. */
import type { BackoffOptions } from '../retry/backoff.js';
import { checkOptionValues, type OptionRules, optionRules } from '../rules/options.js';
import type { CallOptions } from './operation.js';

/** Rules of `baseMs` and `capMs`: finite milliseconds, 0 or more. */
export const backoffRules: OptionRules<BackoffOptions> = {
  baseMs: optionRules.nonNegativeNumber,
  capMs: optionRules.nonNegativeNumber,
};

type ThrottleOptions = NonNullable<CallOptions['throttle']>;

export const callOptionRules: OptionRules<CallOptions> = {
  observe: optionRules.observers,
  context: optionRules.record,
  throttle: optionRules.object<ThrottleOptions>({ ...backoffRules, maxAttempts: optionRules.positiveInteger }),
};

/**
 * Checks a primitive's options: the call options every primitive takes plus its own, by name and value.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from './option-rules.js';
 *
 * checkCallOptions({ throttle: { maxAttempts: 2 } }, {}, 'putIfNewer');
 * ```
 */
export function checkCallOptions<T extends CallOptions>(
  options: T | undefined,
  own: OptionRules<Omit<T, keyof CallOptions>>,
  where: string,
): void {
  checkOptionValues(options, { ...callOptionRules, ...own } as OptionRules<T>, where);
}
