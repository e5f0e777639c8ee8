/** @module What a user's module gives `racesafe check`: tables, a handler built on a client we control, events, an invariant. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { Random } from './random.js';

/** What the handler factory receives for one run. */
export interface CheckEnv<T extends string = string> {
  /** Send every request through this client: the check gates, reorders and breaks its requests. */
  readonly client: DynamoDBDocumentClient;
  /** The real table name for each logical table name of {@link CheckDefinition.tables}. */
  readonly tables: Readonly<Record<T, string>>;
}

/** Every item of every table after a run, by logical table name, sorted by key. */
export type TableSnapshot = Readonly<Record<string, readonly Record<string, unknown>[]>>;

/** A handler: a plain async function of one event, or a Lambda handler (it gets a local Lambda context). */
export type CheckHandler<E> = (event: E, context: Context) => unknown;

export interface CheckDefinition<E, T extends string = string> {
  /** The tables the handler uses: logical name → key schema (string keys). A fresh set is created for every run. */
  readonly tables: Readonly<Record<T, { readonly partitionKey: string; readonly sortKey?: string }>>;
  /** Builds the handler on the check's client. Called once per run. */
  readonly handler: (env: CheckEnv<T>) => CheckHandler<E>;
  /** The events, in their true order; or a function (a generator works) that makes them from a seeded random source. */
  readonly events: readonly E[] | ((random: Random) => Iterable<E>);
  /**
   * Anomalies of a run, as readable lines (empty when the invariant holds).
   * @default the final state must equal the state after delivering every event once, serially, in order
   */
  readonly invariant?: (result: {
    readonly final: TableSnapshot;
    readonly serial: TableSnapshot;
    readonly events: readonly E[];
  }) => readonly string[] | Promise<readonly string[]>;
  /** Concurrent invocations. @default 8 */
  readonly concurrency?: number;
  /** Chance that an event is delivered twice. @default 0.3 */
  readonly duplicates?: number;
  /** Chance that a response is lost after DynamoDB applied the request (the SDK retries it). @default 0.1 */
  readonly lostResponses?: number;
  /** Attributes the default invariant ignores (timestamps, request ids). @default none */
  readonly ignoreAttributes?: readonly string[];
}

/**
 * Declares a module for `racesafe check`: `export default defineCheck({ … })`.
 *
 * @example
 * ```ts
 * import { PutCommand } from '@aws-sdk/lib-dynamodb';
 * import { defineCheck } from 'racesafe/testing';
 *
 * export default defineCheck({
 *   tables: { state: { partitionKey: 'pk' } },
 *   handler: ({ client, tables }) => async (event: { pk: string; version: number }) => {
 *     await client.send(new PutCommand({ TableName: tables.state, Item: event }));
 *   },
 *   events: [{ pk: 'a', version: 1 }, { pk: 'a', version: 2 }],
 * });
 * ```
 */
export function defineCheck<E, T extends string>(definition: CheckDefinition<E, T>): CheckDefinition<E, T> {
  return definition;
}
