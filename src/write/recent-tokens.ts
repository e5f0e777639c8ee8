/** @module Recent write tokens kept on an item, so a write can recognise its own earlier attempt after a lost response. */
import { randomBytes } from 'node:crypto';
import { type Item, recentTokensAttribute, type Table } from '../table.js';

/**
 * How many recent write tokens an item keeps (newest last). A write whose response was lost is recognised as long as
 * fewer than this many other writes landed before the SDK's retry, which comes within milliseconds to seconds.
 */
export const recentTokenCount = 16;

/** True when `token` is the item's last write token or among its recent ones. */
export function holdsToken(table: Table, stored: Item, token: string): boolean {
  const recent = stored[recentTokensAttribute(table)];
  return stored[table.writeTokenAttribute] === token || (Array.isArray(recent) && recent.includes(token));
}

/**
 * A new write token: 96 random bits as 16 base64url characters. Shorter than a UUID because an item carries up to 32
 * of them, and item size is what DynamoDB bills writes by (1 KB per write capacity unit).
 */
export function newWriteToken(): string {
  return randomBytes(12).toString('base64url');
}
