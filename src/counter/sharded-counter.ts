/** @module shardedCounter: a hot counter spread over N items, one exactly-once ADD per increment, one BatchGet per read. */
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  TransactWriteCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption, RacesafeError } from '../errors.js';
import { Placeholders } from '../expression/placeholders.js';
import { type CallOptions, Operation } from '../request/operation.js';
import { transactOne } from '../request/transact-one.js';
import { newWriteToken } from '../request/write-token.js';
import { backoffDelay, sleep } from '../retry/backoff.js';
import { checkCallOptions } from '../rules/call-options.js';
import { reservedNameRule } from '../rules/items.js';
import { numberRule } from '../rules/numbers.js';
import { checkDistinctRoles, type OptionRules, optionRules } from '../rules/options.js';
import { type Item, keyOf, type Table } from '../table.js';

export interface ShardedCounterOptions extends CallOptions {
  /** How many items share the count: each takes up to 1,000 writes a second (DynamoDB's per-partition limit). @default 10 */
  readonly shards?: number;
  /** The attribute that holds each shard's count. @default 'count' */
  readonly attribute?: string;
  /** Picks the shard of each increment, for replayable tests. @default Math.random */
  readonly random?: () => number;
  /** Read the shards with strongly consistent reads. @default true */
  readonly consistentRead?: boolean;
}

/**
 * A counter over N shard items. `increment` adds to one random shard; `read` sums all shards.
 *
 * What a guard on the sum can and cannot promise: each increment is atomic on its shard, so no increment is ever
 * lost, and a condition on one shard (e.g. "this shard stays >= 0") holds exactly. But no single request sees the
 * sum: `read` is N reads in one BatchGet, not a snapshot, and an increment checked against a `read` can race with
 * other increments. So "the total never exceeds 100" cannot be enforced by a sharded counter; for a hard limit use
 * one item with `guardedUpdate`, or a transaction that condition-checks every shard (and conflicts under load).
 *
 * Exactly once: ADD is not idempotent, so each increment is a one-action TransactWriteItems with a ClientRequestToken
 * (DynamoDB applies a token at most once within 10 minutes); an increment whose response was lost is resent (by the
 * SDK, or by racesafe once the SDK gave up) and counted once. The price: twice the write units of a plain UpdateItem.
 * See docs/exactness.md.
 */
export interface ShardedCounter {
  /** The key of each shard, in order. */
  readonly shardKeys: readonly Item[];
  /** Adds `by` (default 1, may be negative) to one random shard, in one atomic write applied at most once. */
  increment(by?: number): Promise<void>;
  /** The sum of all shards, read in one BatchGetItem (retrying unprocessed keys). */
  read(): Promise<number>;
}

/** The key of shard `index` (pure): the partition key gets a `#shard-N` suffix so that shards land on different partitions. */
export function shardKey(table: Table, key: Item, index: number): Item {
  return { ...key, [table.partitionKey]: `${String(key[table.partitionKey])}#shard-${index}` };
}

/** The UpdateItem of one increment (pure): `ADD` is atomic and creates the item and the attribute when missing. */
export function buildShardIncrement(table: Table, key: Item, attribute: string, by: number): UpdateCommandInput {
  const placeholders = new Placeholders();
  const UpdateExpression = `ADD ${placeholders.name(attribute)} ${placeholders.value(by)}`;
  return { TableName: table.name, Key: key, UpdateExpression, ...placeholders.attributes() };
}

/** The BatchGetItem of a read (pure); BatchGetItem takes at most 100 keys, hence the shard limit. */
export function buildShardRead(
  table: Table,
  keys: readonly Item[],
  attribute: string,
  consistent: boolean,
): BatchGetCommandInput {
  const placeholders = new Placeholders();
  const ProjectionExpression = placeholders.name(attribute);
  return {
    RequestItems: {
      [table.name]: { Keys: [...keys], ProjectionExpression, ConsistentRead: consistent, ...placeholders.attributes() },
    },
  };
}

const counterOptionRules: OptionRules<Omit<ShardedCounterOptions, keyof CallOptions>> = {
  // One BatchGetItem reads at most 100 keys.
  shards: optionRules.integerBetween(1, 100),
  attribute: optionRules.attributeName,
  random: optionRules.function,
  consistentRead: optionRules.boolean,
};

/**
 * A counter for a hot key, spread over `shards` items.
 *
 * @example
 * ```ts
 * import { defineTable, shardedCounter } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const counters = defineTable({ client, name: 'counters', partitionKey: 'pk' });
 * const views = shardedCounter(counters, { pk: 'views#home' }, { shards: 20 });
 * await views.increment();
 * const total = await views.read();
 * ```
 */
export function shardedCounter(table: Table, key: Item, options: ShardedCounterOptions = {}): ShardedCounter {
  checkCallOptions(options, counterOptionRules, 'shardedCounter');
  const shards = options.shards ?? 10;
  const attribute = options.attribute ?? 'count';
  const random = options.random ?? Math.random;
  const consistent = options.consistentRead ?? true;
  // The count needs its own attribute: over a key it moves the shard, over the version or a mark it breaks them.
  checkDistinctRoles(
    {
      partitionKey: table.partitionKey,
      sortKey: table.sortKey,
      versionAttribute: table.versionAttribute,
      tombstoneAttribute: table.tombstoneAttribute,
      attribute,
    },
    'shardedCounter',
  );
  const reserved = reservedNameRule(table, attribute);
  if (reserved !== undefined) throw invalidOption('shardedCounter.attribute', reserved);
  const baseKey = keyOf(table, key, 'key');
  if (typeof baseKey[table.partitionKey] !== 'string') {
    throw invalidInput(`key.${table.partitionKey}`, 'must be a string: shard keys add a suffix to it');
  }
  const shardKeys = Array.from({ length: shards }, (_, index) => shardKey(table, baseKey, index));
  // The suffix makes the partition key longer: the longest shard key must still fit DynamoDB's 2048 bytes.
  keyOf(table, shardKeys[shards - 1] as Item, 'key');
  return {
    shardKeys,
    async increment(by = 1) {
      if (typeof by !== 'number') throw invalidInput('by', 'must be a number');
      const rule = numberRule(by);
      if (rule !== undefined) throw invalidInput('by', rule);
      const index = Math.min(shards - 1, Math.floor(random() * shards));
      const shard = shardKeys[index] as Item;
      const request = transactOne({ update: buildShardIncrement(table, shard, attribute, by) }, newWriteToken());
      const operation = new Operation(table, 'shardedCounter.increment', shard, options);
      await operation.run(async () => {
        // The token recognises a resend of an increment that landed: safe to resend after a lost response.
        await operation.send(() => table.client.send(new TransactWriteCommand(request)), 'ambiguous');
        return { status: 'applied' as const };
      });
    },
    async read() {
      const operation = new Operation(table, 'shardedCounter.read', baseKey, options);
      try {
        return await readShards(operation, shardKeys, attribute, consistent);
      } catch (error) {
        if (error instanceof RacesafeError) throw error;
        const message = `shardedCounter.read on ${table.name} failed: ${error instanceof Error ? error.message : error}`;
        throw new RacesafeError(
          'service.failure',
          message,
          { operation: operation.op, attempts: operation.attempts },
          error,
        );
      }
    },
  };
}

async function readShards(
  operation: Operation<Table>,
  keys: readonly Item[],
  attribute: string,
  consistent: boolean,
): Promise<number> {
  const { table } = operation;
  let pending = keys;
  let total = 0;
  // BatchGetItem may return some keys unprocessed (throughput or size limits); AWS asks for a retry with backoff.
  for (let retry = 0; pending.length > 0; retry++) {
    if (retry >= 8) {
      throw new RacesafeError(
        'service.failure',
        `shardedCounter.read on ${table.name}: ${pending.length} shards stayed unprocessed after ${retry} BatchGetItem calls`,
        { operation: 'shardedCounter.read', attempts: operation.attempts },
      );
    }
    if (retry > 0) await sleep(backoffDelay(retry - 1, { baseMs: 20, capMs: 1000 }));
    const request = buildShardRead(table, pending, attribute, consistent);
    const result = await operation.send(() => table.client.send(new BatchGetCommand(request)));
    for (const item of result.Responses?.[table.name] ?? []) {
      const count = item[attribute];
      total += typeof count === 'number' ? count : 0;
    }
    pending = (result.UnprocessedKeys?.[table.name]?.Keys ?? []) as Item[];
  }
  return total;
}
