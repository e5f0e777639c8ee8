/** @module String facts the rules need: UTF-8 well-formedness and byte length. */

const native = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * Whether a string has no lone surrogate, so that it has a UTF-8 form. The SDK would send U+FFFD in its place, and
 * DynamoDB would store something other than what was given.
 */
export function isWellFormed(text: string): boolean {
  if (native !== undefined) return native.call(text);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** UTF-8 length of a string, without counting when every code unit would fit (the common short string). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text);
}
