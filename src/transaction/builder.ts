/** @module The transaction builder: put / update / delete / conditionCheck with the guard vocabulary, checked before sending. */
import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { invalidInput, invalidOption, RacesafeError } from '../errors.js';
import { and, type Condition } from '../expression/condition.js';
import { type Guard, guardCondition, guardParts } from '../expression/guard.js';
import { Placeholders } from '../expression/placeholders.js';
import { type Changes, renderChanges, updateExpression } from '../expression/update.js';
import type { Observer } from '../observe/events.js';
import { checkOptions, Operation, type OperationScope } from '../request/operation.js';
import { actionWriteToken, changeTokenAttribute } from '../request/write-token.js';
import { awsErrorName, type BackoffOptions } from '../retry/backoff.js';
import { backoffRules } from '../rules/call-options.js';
import { checkExpressionSizes } from '../rules/expressions.js';
import { checkItem } from '../rules/items.js';
import { keyValueIdentity } from '../rules/keys.js';
import { checkOptionValues, type OptionRule, type OptionRules, optionRules } from '../rules/options.js';
import { checkVersion, type Item, itemSize, keyAttributes, keyOf, type Table, type Version } from '../table.js';
import { bookkeepingBytes, checkChanges } from '../write/changes.js';
import { newerThanStored } from '../write/versioned.js';
import { decodeCancellation } from './cancellation.js';

/** DynamoDB's limits for one TransactWriteItems request. */
export const transactionLimits = { maxActions: 100, maxBytes: 4 * 1024 * 1024, maxTokenLength: 36 } as const;

type Action =
  | {
      readonly kind: 'put';
      readonly table: Table;
      readonly key: Item;
      readonly item: Item;
      readonly condition?: Condition;
    }
  | {
      readonly kind: 'update';
      readonly table: Table;
      readonly key: Item;
      readonly changes: Changes;
      readonly condition?: Condition;
    }
  | { readonly kind: 'delete'; readonly table: Table; readonly key: Item; readonly condition?: Condition }
  | { readonly kind: 'check'; readonly table: Table; readonly key: Item; readonly condition: Condition };

export interface PutActionOptions {
  /** What must hold on the stored item. @default nothing */
  readonly require?: Guard;
  /** Also require the item's version to be newer than the stored one (as `putIfNewer`). @default false */
  readonly ifNewer?: boolean;
}

export interface CommitOptions {
  /**
   * The ClientRequestToken (1 to 36 characters). Sending the same token again within 10 minutes does not apply the
   * transaction twice: this is what makes a retried commit safe. @default a new UUID per commit() call
   */
  readonly token?: string;
  /**
   * Requests in all (the SDK's retries included) before giving up on conflicts with other transactions, throttling
   * and failures that may have landed. @default 5
   */
  readonly maxAttempts?: number;
  /** @default { baseMs: 25, capMs: 1000 } */
  readonly backoff?: BackoffOptions;
  /** Observers for this commit, in addition to the tables'. @default none */
  readonly observe?: Observer | readonly Observer[];
  /** Fields passed through to the outcome event. @default none */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** A committed transaction. */
export interface CommitResult {
  readonly status: 'applied';
  readonly token: string;
  readonly attempts: number;
}

/**
 * Builds a TransactWriteItems request. Each action may carry a guard; a cancellation becomes a `transaction.cancelled`
 * error that lists, per action, its index, table, key, reason code and the stored item.
 *
 * @example
 * ```ts
 * import { decrement, defineTable, increment, transaction } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const accounts = defineTable({ client, name: 'accounts', partitionKey: 'accountId' });
 * await transaction()
 *   .update(accounts, { accountId: 'alice' }, { changes: { balance: decrement(30) }, require: { balance: { gte: 30 } } })
 *   .update(accounts, { accountId: 'bob' }, { changes: { balance: increment(30) }, require: { accountId: { exists: true } } })
 *   .commit({ token: 'transfer-7f3a' });
 * ```
 */
export class TransactionBuilder {
  readonly #actions: Action[] = [];

  /** Puts a whole item, optionally guarded and/or version-checked. */
  put(table: Table, item: Item, options: PutActionOptions = {}): this {
    const field = this.#field();
    checkOptionValues(options, putActionRules, `${field}.put`);
    const key = keyOf(table, item, `${field}.item`);
    // Reserved names are refused; the put stores the item with a change token (see renderAction), counted here.
    checkItem(table, item, `${field}.item`, bookkeepingBytes(table, 'change'));
    const conditions: Condition[] = [];
    if (options.ifNewer) {
      const version = item[table.versionAttribute];
      checkVersion(version, `${field}.item.${table.versionAttribute}`);
      conditions.push(newerThanStored(table, version as Version));
    }
    const guard = guardCondition(guardParts(options.require ?? {}, `${field}.require`));
    if (guard) conditions.push(guard);
    return this.#push({ kind: 'put', table, key, item, ...joined(conditions) });
  }

  /** Applies `changes` to one item, optionally guarded. */
  update(table: Table, key: Item, input: { readonly changes: Changes; readonly require?: Guard }): this {
    const field = this.#field();
    if (typeof input !== 'object' || input === null)
      throw invalidInput(`${field}.update`, 'must be { changes, require? }');
    checkOptions(input, ['changes', 'require'], `${field}.update`);
    const itemKey = keyOf(table, key, `${field}.key`);
    checkChanges(table, itemKey, input.changes, `${field}.changes`, { allowVersion: true, bookkeeping: 'change' });
    const guard = guardCondition(guardParts(input.require ?? {}, `${field}.require`));
    return this.#push({ kind: 'update', table, key: itemKey, changes: input.changes, ...joined(guard ? [guard] : []) });
  }

  /** Deletes one item, optionally guarded. */
  delete(table: Table, key: Item, options: { readonly require?: Guard } = {}): this {
    const field = this.#field();
    checkOptionValues(options, deleteActionRules, `${field}.delete`);
    const itemKey = keyOf(table, key, `${field}.key`);
    const guard = guardCondition(guardParts(options.require ?? {}, `${field}.require`));
    return this.#push({ kind: 'delete', table, key: itemKey, ...joined(guard ? [guard] : []) });
  }

  /** Requires `require` to hold on an item the transaction does not write. */
  check(table: Table, key: Item, require: Guard): this {
    const field = this.#field();
    const itemKey = keyOf(table, key, `${field}.key`);
    const guard = guardCondition(guardParts(require, `${field}.require`));
    if (!guard) throw invalidInput(`${field}.require`, 'a condition check needs at least one rule');
    return this.#push({ kind: 'check', table, key: itemKey, condition: guard });
  }

  /** The number of actions so far. */
  get size(): number {
    return this.#actions.length;
  }

  /** The request (pure), after checking DynamoDB's transaction rules. */
  build(token: string): TransactWriteCommandInput {
    checkToken(token);
    this.#checkLimits();
    this.#checkOneClient();
    const input = {
      ClientRequestToken: token,
      TransactItems: this.#actions.map((action, index) => renderAction(action, actionWriteToken(token, index))),
    };
    checkExpressionSizes(input, 'actions');
    return input;
  }

  /**
   * Sends the transaction under one ClientRequestToken, resending it (same token) on conflicts with other
   * transactions, throttling, and failures that may have landed (a lost response, a timeout, a 5xx, the SDK's retry
   * quota spent): DynamoDB applies a token at most once within 10 minutes, so a resend never applies it twice.
   */
  async commit(options: CommitOptions = {}): Promise<CommitResult> {
    checkOptionValues(options, commitOptionRules, 'commit');
    const tables = [...new Set(this.#actions.map((action) => action.table))];
    const scope = {
      name: tables.map((table) => table.name).join(','),
      observers: [...new Set(tables.flatMap((t) => t.observers))],
      // The one client every action shares (checked in build()): a tenant scope's, so events carry the tenant.
      client: tables[0]?.client,
    };
    const callOptions = {
      ...(options.observe === undefined ? {} : { observe: options.observe }),
      ...(options.context === undefined ? {} : { context: options.context }),
      retry: { baseMs: options.backoff?.baseMs ?? 25, capMs: options.backoff?.capMs ?? 1000 },
    };
    const token = options.token ?? randomUUID();
    const operation = new Operation(scope, 'transaction', { token }, callOptions);
    return operation.run(() => this.commitWithin(operation, { ...options, token }));
  }

  /**
   * Commits as part of another primitive's operation (as `applyOnce` does): resends follow that operation's retry
   * policy (at most `maxAttempts` requests), and the outcome is left for it to report, so an observer sees one event
   * per call.
   * @internal
   */
  async commitWithin(operation: Operation<OperationScope>, options: CommitOptions = {}): Promise<CommitResult> {
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
      throw invalidOption('maxAttempts', 'must be a whole number >= 1');
    const token = options.token ?? randomUUID();
    const input = this.build(token);
    const targets = this.#actions.map((action) => ({ table: action.table.name, key: action.key }));
    const client = (this.#actions[0] as Action).table.client;
    try {
      await operation.send(() => client.send(new TransactWriteCommand(input)), 'ambiguous', { maxAttempts });
      return { status: 'applied', token, attempts: operation.attempts };
    } catch (error) {
      if (awsErrorName(error) !== 'TransactionCanceledException') throw error;
      const reasons = decodeCancellation(error, targets);
      const failing = reasons.filter((reason) => reason.code !== 'None');
      throw new RacesafeError(
        'transaction.cancelled',
        `transaction cancelled: ${failing.map((r) => `action ${r.index} on ${r.table}: ${r.code}`).join('; ')}`,
        { reasons, attempts: operation.attempts },
        error,
      );
    }
  }

  #field(): string {
    return `actions[${this.#actions.length}]`;
  }

  #push(action: Action): this {
    this.#actions.push(action);
    return this;
  }

  /**
   * A transaction is one request through one client (the first action's). An action whose table has another client
   * would silently go through the wrong one: for a tenant scope (racesafe/tenant) that is another tenant's prefix, or
   * none at all.
   */
  #checkOneClient(): void {
    const client = (this.#actions[0] as Action).table.client;
    const index = this.#actions.findIndex((action) => action.table.client !== client);
    if (index < 0) return;
    // The mark tenantScope() puts on its clients (Symbol.for: the tenant module is not imported from here).
    const mark = Symbol.for('racesafe.tenantScope');
    const tenants = [client, (this.#actions[index] as Action).table.client].map(
      (c) => (Reflect.get(c, mark) as { tenantId: string } | undefined)?.tenantId,
    );
    const rule = `uses another client than actions[0]: one transaction goes through one client`;
    const tenantId = tenants.find((tenant) => tenant !== undefined);
    if (tenantId === undefined) throw invalidInput(`actions[${index}].table`, rule);
    const where = tenants.map((tenant) => (tenant === undefined ? 'an unscoped table' : `tenant ${tenant}`));
    throw new RacesafeError(
      'tenant.crossTenant',
      `actions[${index}].table: mixes ${where[0]} with ${where[1]} in one transaction`,
      { tenantId, field: `actions[${index}].table`, rule: `${rule}; a transaction stays inside one tenant` },
    );
  }

  #checkLimits(): void {
    const count = this.#actions.length;
    if (count === 0) throw invalidInput('actions', 'a transaction needs at least one action');
    if (count > transactionLimits.maxActions) {
      throw invalidInput('actions', `at most ${transactionLimits.maxActions} actions per transaction (got ${count})`);
    }
    const seen = new Map<string, number>();
    let bytes = 0;
    this.#actions.forEach((action, index) => {
      // By DynamoDB's notion of one item: a Buffer and a Uint8Array of the same bytes are one key (JSON tells them apart).
      let identity = action.table.name;
      for (const name of keyAttributes(action.table)) identity += `\u0000${keyValueIdentity(action.key[name])}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        throw invalidInput(
          `actions[${index}]`,
          `targets the same item as actions[${first}]: one action per item per transaction`,
        );
      }
      seen.set(identity, index);
      bytes += itemSize(action.key) + (action.kind === 'put' ? itemSize(action.item) : 0);
      if (action.kind === 'update') bytes += itemSize(action.changes as Item);
      if (action.kind === 'put' || action.kind === 'update') bytes += bookkeepingBytes(action.table, 'change');
    });
    if (bytes > transactionLimits.maxBytes) {
      throw invalidInput('actions', `a transaction carries at most 4 MB in all (got about ${bytes} bytes)`);
    }
  }
}

/**
 * Starts a transaction.
 *
 * @example
 * ```ts
 * import { defineTable, transaction } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId' });
 * await transaction().put(orders, { orderId: 'o-9', total: 12 }, { require: { orderId: { exists: false } } }).commit();
 * ```
 */
export function transaction(): TransactionBuilder {
  return new TransactionBuilder();
}

const guardRule: OptionRule = (value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'must be a guard object';
const putActionRules: OptionRules<PutActionOptions> = { require: guardRule, ifNewer: optionRules.boolean };
const deleteActionRules: OptionRules<{ readonly require?: Guard }> = { require: guardRule };
const commitOptionRules: OptionRules<CommitOptions> = {
  token: optionRules.string,
  maxAttempts: optionRules.positiveInteger,
  backoff: optionRules.object(backoffRules),
  observe: optionRules.observers,
  context: optionRules.record,
};

function joined(conditions: Condition[]): { condition?: Condition } {
  return conditions.length === 0 ? {} : { condition: and(...conditions) };
}

function checkToken(token: string): void {
  if (typeof token !== 'string' || token.length < 1 || token.length > transactionLimits.maxTokenLength) {
    throw invalidInput('token', `a ClientRequestToken has 1 to ${transactionLimits.maxTokenLength} characters`);
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One action of the request (pure). Puts and updates store `writeToken` as the item's change token: updateWithLock
 * conditions its put on the one it read, so it sees this write even when the transaction leaves the version alone.
 */
function renderAction(action: Action, writeToken: string): TransactItem {
  const placeholders = new Placeholders();
  const base = { TableName: action.table.name, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  const ConditionExpression = action.condition?.(placeholders);
  const conditioned = ConditionExpression === undefined ? {} : { ConditionExpression };
  switch (action.kind) {
    case 'put': {
      const Item = { ...action.item, [changeTokenAttribute(action.table)]: writeToken };
      return { Put: { ...base, Item, ...conditioned, ...placeholders.attributes() } };
    }
    case 'update': {
      const clauses = renderChanges(action.changes, placeholders);
      clauses.set.push(`${placeholders.name(changeTokenAttribute(action.table))} = ${placeholders.value(writeToken)}`);
      const UpdateExpression = updateExpression(clauses);
      return { Update: { ...base, Key: action.key, UpdateExpression, ...conditioned, ...placeholders.attributes() } };
    }
    case 'delete':
      return { Delete: { ...base, Key: action.key, ...conditioned, ...placeholders.attributes() } };
    case 'check':
      return {
        ConditionCheck: {
          ...base,
          Key: action.key,
          ConditionExpression: ConditionExpression ?? '',
          ...placeholders.attributes(),
        },
      };
  }
}
