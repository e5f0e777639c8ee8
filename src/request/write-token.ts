/** @module Write tokens: how a request recognises its own earlier attempt after a lost response. */
import { createHash, randomBytes } from 'node:crypto';
import type { Item, Table } from '../table.js';

/**
 * True when the stored item carries `token` in the table's write-token attribute: a version-monotonic write stores
 * its token with the version it writes, so a resend that fails its version condition finds it and knows that its
 * earlier attempt landed. The version condition makes this exact: no other write can store this version after ours,
 * and a newer version replaces the token (then the write is `stale`, and says that it may have landed).
 */
export function holdsToken(table: Table, stored: Item, token: string): boolean {
  return stored[table.writeTokenAttribute] === token;
}

/**
 * A new token: 96 random bits as 16 base64url characters. Short, because versioned writes store one on the item and
 * DynamoDB bills writes by item size (1 KB per write unit); also a valid ClientRequestToken (1 to 36 printable ASCII).
 */
export function newWriteToken(): string {
  // One system call per 256 tokens instead of one per write: the client is on the critical path of every request.
  if (poolOffset + tokenBytes > pool.length) {
    pool = randomBytes(tokenBytes * 256);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + tokenBytes);
  poolOffset += tokenBytes;
  return token;
}

const tokenBytes = 12;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * The attribute of the change token (`<writeTokenAttribute>0`, so already reserved and hidden as the first slot of the
 * register before 0.2): every racesafe write of an item that leaves the version alone, or replaces the item without a
 * version token (guardedUpdate, updateWithLock, a transaction's put or update), stores a fresh one there.
 * updateWithLock's put requires the version, the write token and the change token it read, so it sees every racesafe
 * write in between. Separate from the write token, which a versioned write recognises its own attempt by and which
 * another write must therefore not overwrite while the version stays.
 */
export function changeTokenAttribute(table: Table): string {
  return `${table.writeTokenAttribute}0`;
}

/**
 * The write token a transaction's action `index` stores (pure): derived from the transaction's ClientRequestToken, so
 * that a resend (byte-identical, as DynamoDB's idempotency requires) stores the same one, and another commit (another
 * ClientRequestToken) a different one. Same length and alphabet as {@link newWriteToken}.
 */
export function actionWriteToken(requestToken: string, index: number): string {
  return createHash('sha256').update(`${requestToken}#${index}`).digest('base64url').slice(0, 16);
}
