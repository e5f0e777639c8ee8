/** @module The thin sending layer every primitive shares: observe, retry throttling, decode condition failures. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidOption, RacesafeError, rejectUnknownOptions } from '../errors.js';
import { emit, type Observer, type OutcomeStatus } from '../observe/events.js';
import { awsErrorName, type BackoffOptions, backoffDelay, isThrottling, sleep } from '../retry/backoff.js';
import { type Item, isTombstone, type Table } from '../table.js';
import { callOptionRules } from './option-rules.js';

/** Options every primitive takes. */
export interface CallOptions {
  /** Observers for this call, in addition to the table's. @default none */
  readonly observe?: Observer | readonly Observer[];
  /** Fields passed through to every outcome event of this call (e.g. a stream event's id). @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Our retries of throttling errors that outlived the SDK's own retries. A throttled request was not applied, so
   * sending it again is safe. @default { maxAttempts: 3, baseMs: 50, capMs: 2000 }
   */
  readonly throttle?: BackoffOptions & { readonly maxAttempts?: number };
}

export const callOptionNames = ['observe', 'context', 'throttle'];

/** Where an operation's events say it happened: a table, or the tables of a transaction. */
export type OperationScope = Pick<Table, 'name' | 'observers'>;

/** One call of a primitive in progress: counts requests and emits events. */
export class Operation<S extends OperationScope = Table> {
  readonly #started = performance.now();
  readonly #observers: readonly Observer[];
  attempts = 0;
  /** Why the call ended as it did; reported with the outcome event. */
  reason: string | undefined;

  constructor(
    readonly table: S,
    readonly op: string,
    readonly key: Item,
    readonly options: CallOptions,
  ) {
    const own = options.observe;
    this.#observers = own === undefined ? table.observers : table.observers.concat(own);
  }

  emit(status: OutcomeStatus, reason?: string): void {
    if (this.#observers.length === 0) return;
    emit(this.#observers, {
      op: this.op,
      table: this.table.name,
      key: this.key,
      status,
      attempts: this.attempts,
      latencyMs: performance.now() - this.#started,
      ...(reason === undefined ? {} : { reason }),
      ...(this.options.context === undefined ? {} : { context: this.options.context }),
    });
  }

  /** Sends one logical request, retrying throttling with backoff; each request counts as an attempt. */
  async send<T>(request: () => Promise<T>): Promise<T> {
    const throttle = this.options.throttle;
    for (let retry = 0; ; retry++) {
      this.attempts += 1;
      try {
        return await request();
      } catch (error) {
        if (!isThrottling(error) || retry + 1 >= (throttle?.maxAttempts ?? 3)) throw error;
        this.emit('retried', awsErrorName(error));
        await sleep(backoffDelay(retry, { baseMs: throttle?.baseMs ?? 50, capMs: throttle?.capMs ?? 2000 }));
      }
    }
  }

  /** Runs the call: emits its outcome, and wraps anything that is not a RacesafeError as `service.failure`. */
  async run<R extends { status: OutcomeStatus }>(body: () => Promise<R>): Promise<R> {
    try {
      const result = await body();
      this.emit(result.status, this.reason);
      return result;
    } catch (error) {
      const wrapped =
        error instanceof RacesafeError
          ? error
          : new RacesafeError(
              'service.failure',
              `${this.op} on ${this.table.name} failed: ${error instanceof Error ? error.message : String(error)}`,
              { operation: this.op, attempts: this.attempts },
              error,
            );
      this.emit(statusOfError(wrapped), wrapped.message);
      throw wrapped;
    }
  }
}

function statusOfError(error: RacesafeError): OutcomeStatus {
  if (error.is('write.conflict')) return 'conflict';
  if (error.is('transaction.cancelled')) return 'cancelled';
  return 'error';
}

/**
 * Validates the options of a primitive: its own names plus the shared call options, whose values are checked by
 * `callOptionRules` (src/write/option-rules.ts). A primitive checks its own options' values itself.
 */
export function checkOptions(options: object | undefined, own: readonly string[], where: string): void {
  // Every primitive call runs this: the combined list (for the error message) is built only when a name is unknown.
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(where, 'options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!own.includes(name) && !callOptionNames.includes(name)) {
      rejectUnknownOptions(options, [...own, ...callOptionNames], where);
    }
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const rule = (callOptionRules as Record<string, (value: unknown) => string | undefined>)[name];
    const broken = rule?.(value);
    if (broken !== undefined) throw invalidOption(`${where}.${name}`, broken);
  }
}

/**
 * The stored item that made a condition fail, unmarshalled: lib-dynamodb does not unmarshall `error.Item`. Undefined
 * when the engine did not return it (dynalite ignores ReturnValuesOnConditionCheckFailure).
 */
export function conditionFailureItem(error: unknown): Item | undefined {
  const item = (error as { Item?: Record<string, never> }).Item;
  return item === undefined ? undefined : (unmarshall(item) as Item);
}

/** A strongly consistent read: the fallback when a failed condition did not return the stored item. */
export async function readConsistently(operation: Operation<Table>, key: Item): Promise<Item | undefined> {
  const { table } = operation;
  const result = await operation.send(() =>
    table.client.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
  );
  return result.Item;
}

/** The stored item behind a condition failure: from ALL_OLD when the engine returned it, else a consistent read. */
export async function storedAfterConditionFailure(
  operation: Operation<Table>,
  error: unknown,
): Promise<Item | undefined> {
  return conditionFailureItem(error) ?? (await readConsistently(operation, operation.key));
}

/** The item as the caller sees it: tombstones read as absent. */
export function visible(table: Table, item: Item | undefined): Item | undefined {
  return isTombstone(table, item) ? undefined : item;
}
