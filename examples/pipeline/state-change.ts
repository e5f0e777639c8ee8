/** @module The event of the reference pipeline: one key's state at one version, as the producer publishes it. */

/** A versioned state change. `version` grows by one per change of a key; the producer never reuses one. */
export interface StateChange {
  readonly key: string;
  readonly version: number;
  readonly temperature: number;
}

/**
 * Validates a decoded Kinesis payload (any function that returns the event or throws works as `parse`). A record it
 * refuses is poison: the consumer reports it and never writes it.
 *
 * @example
 * ```ts
 * import { parseStateChange } from './state-change.js';
 *
 * const change = parseStateChange({ key: 'device-7', version: 42, temperature: 21.5 });
 * ```
 */
export function parseStateChange(payload: unknown): StateChange {
  if (typeof payload !== 'object' || payload === null) throw new Error('a state change is a JSON object');
  const { key, version, temperature } = payload as Record<string, unknown>;
  if (typeof key !== 'string' || key === '') throw new Error('key must be a non-empty string');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new Error('version must be a positive safe integer');
  }
  if (typeof temperature !== 'number' || !Number.isFinite(temperature)) throw new Error('temperature must be a number');
  return { key, version, temperature };
}
