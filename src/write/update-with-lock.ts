/** @module updateWithLock: optimistic read-modify-write of one item, with a version check and bounded jittered retries. */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput, RacesafeError } from '../errors.js';
import { and, attributeExists, attributeNotExists, type Condition, compare } from '../expression/condition.js';
import { Placeholders } from '../expression/placeholders.js';
import { sendConditional } from '../request/conditional-write.js';
import { type CallOptions, Operation } from '../request/operation.js';
import { readConsistently, visible } from '../request/stored.js';
import { transactOne } from '../request/transact-one.js';
import { changeTokenAttribute, newWriteToken } from '../request/write-token.js';
import { type BackoffOptions, backoffDelay, sleep } from '../retry/backoff.js';
import { backoffRules, checkCallOptions } from '../rules/call-options.js';
import { checkItem } from '../rules/items.js';
import { keyValueIdentity } from '../rules/keys.js';
import { type OptionRules, optionRules } from '../rules/options.js';
import { utf8Length } from '../rules/strings.js';
import { type Item, keyAttributes, keyOf, type Table, withoutBookkeeping } from '../table.js';
import { bookkeepingBytes } from './changes.js';

/** Returned by a `mutate` function to say "nothing to change": no write is sent. */
export const noChange: unique symbol = Symbol('racesafe.noChange');

/** Computes the next item from the current one (undefined when there is none). Must be pure: it may run several times. */
export type Mutate<T extends object> = (current: T | undefined) => T | typeof noChange | Promise<T | typeof noChange>;

export interface UpdateWithLockOptions extends CallOptions {
  /** Write attempts before giving up with a `write.conflict` error. @default 8 */
  readonly maxAttempts?: number;
  /** Backoff between attempts (capped exponential, full jitter). @default { baseMs: 10, capMs: 500 } */
  readonly backoff?: BackoffOptions;
  /** Source of jitter, for replayable tests. @default Math.random */
  readonly random?: () => number;
}

/** What an optimistic update did. */
export type LockOutcome<T extends object = Item> =
  | { readonly status: 'applied'; readonly item: T; readonly attempts: number }
  | { readonly status: 'unchanged'; readonly current: T | undefined; readonly attempts: number };

/**
 * The request of one attempt (pure): a put conditioned on `version = :expected` and on the write and change tokens
 * read (`token = :read`, or no token when the read item had none; create-only when nothing is stored), storing its
 * own change token, so that any racesafe write between the read and the put (a guardedUpdate too, which leaves the version alone)
 * makes the put conflict. It is sent as a one-action TransactWriteItems whose ClientRequestToken is the attempt's `token`: a resend of an attempt that
 * landed applies nothing and succeeds, however many writes came in between. The next attempt after a real conflict
 * is a different request with a new token.
 */
export function buildLockedPut(
  table: Table,
  next: Item,
  stored: Item | undefined,
  token: string,
): TransactWriteCommandInput {
  const placeholders = new Placeholders();
  const storedVersion = stored?.[table.versionAttribute];
  const condition =
    stored === undefined
      ? attributeNotExists(table.partitionKey)
      : and(
          storedVersion === undefined
            ? and(attributeExists(table.partitionKey), attributeNotExists(table.versionAttribute))
            : compare(table.versionAttribute, '=', storedVersion),
          unchanged(table.writeTokenAttribute, stored),
          unchanged(changeTokenAttribute(table), stored),
        );
  const ConditionExpression = condition(placeholders);
  const put = {
    TableName: table.name,
    Item: {
      ...next,
      // updateWithLock refuses stored versions that are not numbers before it builds a put.
      [table.versionAttribute]: (typeof storedVersion === 'number' ? storedVersion : 0) + 1,
      // A fresh change token, so the next lock's put sees that this one came in between.
      [changeTokenAttribute(table)]: token,
    },
    ConditionExpression,
    ...placeholders.attributes(),
  };
  return transactOne({ put }, token);
}

/**
 * "The token in `attribute` is still the one read" (pure). Every racesafe write stores a fresh write token (versioned
 * writes) or change token (guardedUpdate and transactions, which may leave the version alone; updateWithLock), so the
 * version alone cannot tell that a write came between the read and the put, but the two tokens can.
 */
function unchanged(attribute: string, stored: Item): Condition {
  const token = stored[attribute];
  return token === undefined ? attributeNotExists(attribute) : compare(attribute, '=', token);
}

/**
 * Optimistic locking: read consistently, compute the next item with `mutate`, write it only if the version is still
 * the one read (`version = :expected`, then version + 1). On a conflict it retries with capped exponential backoff
 * and full jitter, using the stored item the failed write returned (ALL_OLD) instead of reading again; after
 * `maxAttempts` it throws a `write.conflict` error carrying the attempts and the last item seen.
 *
 * Exactly once: each attempt's put is a one-action TransactWriteItems with its own ClientRequestToken, so a resend
 * after a lost response applies nothing and succeeds, and a landed write is never reported as a conflict. Each put
 * is conditioned on the version and the tokens it read, and every racesafe write stores a fresh token, so it
 * mixes safely with guardedUpdate on one item. The price: twice the write units of a plain put, and the token
 * (about 24 B) on the item. See docs/exactness.md.
 *
 * @example
 * ```ts
 * import { defineTable, noChange, updateWithLock } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const docs = defineTable({ client, name: 'documents', partitionKey: 'docId' });
 * await updateWithLock(docs, { docId: 'readme' }, (current) => {
 *   if (current?.locked) return noChange;
 *   return { docId: 'readme', edits: Number(current?.edits ?? 0) + 1 };
 * });
 * ```
 */
export async function updateWithLock<T extends object = Item>(
  table: Table,
  key: Item,
  mutate: Mutate<T>,
  options: UpdateWithLockOptions = {},
): Promise<LockOutcome<T>> {
  checkCallOptions(options, lockOptionRules, 'updateWithLock');
  const maxAttempts = options.maxAttempts ?? 8;
  if (typeof mutate !== 'function') throw invalidInput('mutate', 'must be a function');
  const itemKey = keyOf(table, key, 'key');
  const backoff = { baseMs: options.backoff?.baseMs ?? 10, capMs: options.backoff?.capMs ?? 500 };
  const random = options.random ?? Math.random;
  const operation = new Operation(table, 'updateWithLock', itemKey, options);
  return operation.run(async (): Promise<LockOutcome<T>> => {
    let stored = await readConsistently(operation, itemKey);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      checkCountable(table, stored);
      const current = visible(table, stored);
      const view = current === undefined ? undefined : (structuredClone(withoutBookkeeping(table, current)) as T);
      const next = await mutate(view);
      if (next === noChange) return { status: 'unchanged', current: view, attempts: attempt };
      const item = checkedNext(table, itemKey, next);
      const request = buildLockedPut(table, item, stored, newWriteToken());
      const conflict = await sendConditional<{ readonly stored: Item | undefined } | undefined>(operation, {
        send: async () => {
          await table.client.send(new TransactWriteCommand(request));
          return undefined;
        },
        // A resend of an attempt that landed succeeds, so a failed condition is another writer's version.
        classify: (found) => ({ result: { stored: found } }),
      });
      if (conflict === undefined) {
        const written = (request.TransactItems?.[0]?.Put?.Item ?? {}) as Item;
        return { status: 'applied', item: withoutBookkeeping(table, written) as T, attempts: attempt };
      }
      stored = conflict.stored;
      if (attempt === maxAttempts) break;
      operation.emit('retried', `item changed (version ${String(stored?.[table.versionAttribute])})`);
      await sleep(backoffDelay(attempt - 1, backoff, random));
    }
    const lastSeen = stored === undefined ? undefined : withoutBookkeeping(table, stored);
    throw new RacesafeError(
      'write.conflict',
      `updateWithLock on ${table.name} gave up after ${maxAttempts} attempts: the item kept changing`,
      { attempts: maxAttempts, lastSeen },
    );
  });
}

/**
 * Refuses to take over an item whose version is not a number (an ordered string written by putIfNewer, say): counting
 * it up from 0 would make it go backwards for every version-monotonic writer.
 */
function checkCountable(table: Table, stored: Item | undefined): void {
  const version = stored?.[table.versionAttribute];
  if (version === undefined || typeof version === 'number') return;
  throw new RacesafeError(
    'write.incompatibleVersion',
    `updateWithLock on ${table.name}: the stored ${table.versionAttribute} is ${JSON.stringify(version)}, not a number; updateWithLock counts versions up and would break its order`,
    { field: table.versionAttribute, stored: version },
  );
}

const lockOptionRules: OptionRules<Omit<UpdateWithLockOptions, keyof CallOptions>> = {
  maxAttempts: optionRules.positiveInteger,
  backoff: optionRules.object(backoffRules),
  random: optionRules.function,
};

function checkedNext(table: Table, key: Item, next: unknown): Item {
  if (typeof next !== 'object' || next === null || Array.isArray(next)) {
    throw invalidInput('mutate', 'must return the next item (an object) or noChange');
  }
  const item = next as Item;
  for (const attribute of keyAttributes(table)) {
    if (item[attribute] !== undefined && keyValueIdentity(item[attribute]) !== keyValueIdentity(key[attribute])) {
      throw invalidInput(`mutate.${attribute}`, 'the key cannot change; write a new item instead');
    }
  }
  const { [table.versionAttribute]: _version, ...rest } = item;
  const full = { ...rest, ...key };
  // The put carries the next version (a safe integer: at most 9 bytes) and its change token besides, counted so DynamoDB
  // never refuses the size.
  checkItem(table, full, 'mutate', utf8Length(table.versionAttribute) + 9 + bookkeepingBytes(table, 'change'));
  return full;
}
