/** @module The conditional-write kernel: send (with racesafe's resends), condition failed, stored item, classify. */
import { RacesafeError } from '../errors.js';
import type { OutcomeStatus } from '../observe/events.js';
import type { Item, Table } from '../table.js';
import type { Operation, Resend } from './operation.js';
import { isConditionFailure, storedAfterConditionFailure } from './stored.js';

/** What the kernel tells a classifier besides the stored item. */
export interface WriteFacts {
  /**
   * An earlier request of this call may have been applied without this call hearing of it (the SDK or racesafe sent
   * it again after a failure that may have landed). A classifier that cannot recognise its own earlier attempt on the
   * stored item (a version-monotonic put superseded before its retry) says so in its outcome.
   */
  readonly resent: boolean;
}

/**
 * A classifier's verdict on a failed condition: the call's `result` (with the `reason` reported in its event), or
 * `again`: the stored item does not explain the failure (it changed since, on an engine without ALL_OLD), so the
 * kernel sends the request once more, up to {@link maxConditionRounds} rounds.
 */
export type Verdict<R> = { readonly result: R; readonly reason?: string } | { readonly again: string };

/** One conditional request of a primitive: how to send it and how to read a failed condition. */
export interface ConditionalWrite<R> {
  /** Sends the request once through the table's client (the pure builder made it); resolves to the applied result. */
  readonly send: () => Promise<R>;
  /** Classifies a failed condition from the stored item (ALL_OLD, or one consistent read; undefined when absent). */
  readonly classify: (stored: Item | undefined, facts: WriteFacts) => Verdict<R>;
  /**
   * Whether a failure that may have landed is sent again. `ambiguous` only for a request that recognises its own
   * earlier attempt: a ClientRequestToken, a write token on the item, an owner and fencing token. @default 'ambiguous'
   */
  readonly resend?: Resend;
}

/** Rounds of "the stored item changed since the condition failed; send again" (only engines without ALL_OLD need them). */
export const maxConditionRounds = 5;

/**
 * The kernel, inside a call: sends `write` (resending throttling and ambiguous failures by the call's retry policy),
 * and turns a failed condition into the primitive's result with its classifier. Other errors propagate; wrap the call
 * in {@link Operation.run} (or use {@link conditionalWrite}) to report and wrap them.
 */
export async function sendConditional<R>(operation: Operation<Table>, write: ConditionalWrite<R>): Promise<R> {
  for (let round = 1; ; round++) {
    try {
      return await operation.send(write.send, write.resend ?? 'ambiguous');
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const stored = await storedAfterConditionFailure(operation, error);
      const verdict = write.classify(stored, { resent: operation.resent });
      if ('result' in verdict) {
        if (verdict.reason !== undefined) operation.reason = verdict.reason;
        return verdict.result;
      }
      if (round >= maxConditionRounds) {
        throw new RacesafeError(
          'write.conflict',
          `${operation.op} on ${operation.table.name}: the stored item changed on every one of ${maxConditionRounds} rounds (${verdict.again})`,
          { attempts: operation.attempts, lastSeen: stored },
        );
      }
    }
  }
}

/**
 * One whole call of a single-request primitive: {@link sendConditional} inside {@link Operation.run}, so the outcome is
 * reported once and any error that is not a RacesafeError becomes `service.failure`. See src/request/README.md.
 */
export function conditionalWrite<R extends { readonly status: OutcomeStatus }>(
  operation: Operation<Table>,
  write: ConditionalWrite<R>,
): Promise<R> {
  return operation.run(() => sendConditional(operation, write));
}
