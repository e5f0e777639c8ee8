/** @module Payload fingerprints: the same idempotency key with a different payload must be caught, not replayed. */
import { createHash } from 'node:crypto';

/**
 * A SHA-256 fingerprint of a JSON-like payload, the same whatever the order of object keys (two senders may build
 * the same request with fields in a different order).
 *
 * @example
 * ```ts
 * import { payloadHash } from 'racesafe';
 *
 * payloadHash({ a: 1, b: [2] }) === payloadHash({ b: [2], a: 1 }); // true
 * ```
 */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

/** JSON with object keys sorted at every depth (pure). */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, nested: unknown) => {
      if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) return nested;
      if (nested instanceof Set) return [...nested].sort();
      if (nested instanceof Uint8Array) return Buffer.from(nested).toString('base64');
      const plain = nested as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(plain)
          .sort()
          .map((name) => [name, plain[name]]),
      );
    }) ?? 'undefined'
  );
}
