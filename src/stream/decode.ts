/** @module Strict decoding of record payloads: base64, UTF-8 and JSON, each failure named (a poison reason). */
import type { Decoded } from './record.js';

const base64Shape = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes base64 strictly. Node's `Buffer.from(s, 'base64')` skips characters it does not know, so garbage would
 * decode to other garbage instead of being recognised as poison.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!base64Shape.test(text)) return undefined;
  // A plain Uint8Array, as the DocumentClient returns binary attributes.
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Bytes as UTF-8 text, refusing invalid sequences rather than replacing them with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** JSON text to a value, or the parser's reason. */
export function decodeJson(text: string): Decoded {
  try {
    return { ok: true, payload: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** A base64 JSON document (a Kinesis record's `data`) to a value, or why it is poison. */
export function decodeBase64Json(data: unknown): Decoded {
  if (typeof data !== 'string') return { ok: false, reason: 'undecodable: the record has no data' };
  const bytes = decodeBase64(data);
  if (bytes === undefined) return { ok: false, reason: 'undecodable: data is not valid base64' };
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, reason: 'undecodable: data is not valid UTF-8' };
  return decodeJson(text);
}
