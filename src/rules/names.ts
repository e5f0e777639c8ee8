/** @module DynamoDB's attribute-name rules: non-empty, within the size limit, valid UTF-8. */
import { maxAttributeNameBytes } from './limits.js';
import { isWellFormed } from './strings.js';

/**
 * Why DynamoDB cannot take this attribute name (top-level or inside a map), or undefined when it can: "Attribute names
 * must be at least one character long" and are UTF-8 (Naming rules), so a lone surrogate, which has no UTF-8 form,
 * is refused (DynamoDB Local answers it with HTTP 500).
 */
export function attributeNameRule(name: string): string | undefined {
  if (name.length === 0) return 'an attribute name must not be empty';
  // Three bytes per UTF-16 code unit at most: only long names need counting.
  if (name.length * 3 > maxAttributeNameBytes && Buffer.byteLength(name) > maxAttributeNameBytes) {
    return `an attribute name must be at most ${maxAttributeNameBytes} bytes (UTF-8)`;
  }
  if (!isWellFormed(name))
    return 'an attribute name must be valid Unicode (it has a lone surrogate, which UTF-8 cannot encode)';
  // JSON.parse makes `__proto__` an own key; writing it into an object (the DocumentClient's marshaller, or ours)
  // sets the prototype instead, so the attribute would vanish without an error.
  if (name === '__proto__') return 'the attribute name __proto__ cannot round-trip through JavaScript objects';
  return undefined;
}
