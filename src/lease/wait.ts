/** @module How duplicates wait for a lease holder's result: bounded polling with a small, growing, jittered delay. */
import { RacesafeError } from '../errors.js';
import type { CallOptions } from '../request/operation.js';
import { backoffDelay, sleep } from '../retry/backoff.js';
import type { Item, Table } from '../table.js';
import type { Clock } from './clock.js';
import { checkDuration, readLease } from './lease.js';
import { isHeldLive, type LeaseRecord } from './record.js';

/** How a duplicate polls while another caller holds the lease. */
export interface PollOptions {
  /**
   * The first delay is between half of this and this, in ms. Small, so a waiter sees a fast holder's result almost
   * as soon as the holder does. @default 10
   */
  readonly firstDelayMs?: number;
  /**
   * The delay doubles up to this, in ms. A waiter sees a result at most about this long after it was stored, and
   * sends at most 1000 / (capMs / 2) reads a second. The default makes a long wait cost about what a fixed 100 ms
   * sleep costs, while a short one ends within a few ms of the holder's completion. @default 100
   */
  readonly capMs?: number;
  /**
   * Longest wait without a sign of life from the holder (a renewal, or a new holder), by the lease clock, then a
   * `lease.inProgress` error. A holder that renews is waited for however long its work takes; one that stops
   * renewing loses its lease within `leaseMs`, and the waiter takes over. @default 2 x leaseMs
   */
  readonly maxWaitMs?: number;
}

export const pollOptionNames = Object.keys({
  firstDelayMs: true,
  capMs: true,
  maxWaitMs: true,
} satisfies Record<keyof PollOptions, true>);

/** Poll settings with defaults applied, plus where the wait started. */
export interface WaitSettings {
  readonly firstDelayMs: number;
  readonly capMs: number;
  readonly maxWaitMs: number;
  readonly clock: Clock;
  readonly startedAt: number;
  /** An absolute end to the wait (epoch ms by the clock), e.g. before a Lambda invocation's own timeout. */
  readonly deadline: number | undefined;
  readonly random: () => number;
}

/** Validates poll options and applies their defaults once; `leaseMs` sets the default total wait. */
export function waitSettings(
  poll: PollOptions | undefined,
  leaseMs: number,
  clock: Clock,
  deadline?: number,
): WaitSettings {
  const settings = {
    firstDelayMs: poll?.firstDelayMs ?? 10,
    capMs: poll?.capMs ?? 100,
    maxWaitMs: poll?.maxWaitMs ?? 2 * leaseMs,
  };
  checkDuration(settings.firstDelayMs, 'poll.firstDelayMs', 1);
  checkDuration(settings.capMs, 'poll.capMs', settings.firstDelayMs);
  checkDuration(settings.maxWaitMs, 'poll.maxWaitMs', 0);
  return { ...settings, clock, startedAt: clock.now(), deadline, random: Math.random };
}

/**
 * The delay before poll `n` (from 0): "equal jitter", half fixed and half random, doubling from `firstDelayMs` up to
 * `capMs`. Unlike full jitter it never polls again at once (the result is rarely ready a millisecond later); the
 * random half still spreads hundreds of waiters so they do not read in lockstep.
 */
export function pollDelay(n: number, wait: Pick<WaitSettings, 'firstDelayMs' | 'capMs' | 'random'>): number {
  const ceiling = Math.min(wait.capMs, wait.firstDelayMs * 2 ** n);
  return ceiling / 2 + backoffDelay(n, { baseMs: wait.firstDelayMs / 2, capMs: wait.capMs / 2 }, wait.random);
}

/**
 * Polls the record of `key` until no live lease holds it, and returns what it found then (a result, a released or
 * expired lease, or nothing). Patience counts from the holder's last sign of life: a renewal (a later `leaseUntil`) or
 * a new holder restarts it, so work longer than its lease is waited for as long as its holder renews. Throws
 * `lease.inProgress` after `maxWaitMs` without one, or at the deadline.
 */
export async function waitWhileHeld<V>(
  table: Table,
  key: Item,
  seen: LeaseRecord<V> | undefined,
  wait: WaitSettings,
  options: CallOptions,
): Promise<LeaseRecord<V> | undefined> {
  let record = seen;
  let lastSign = signOfLife(record);
  let lastSignAt = wait.clock.now();
  for (let n = 0; ; n++) {
    const now = wait.clock.now();
    if (now - lastSignAt >= wait.maxWaitMs || (wait.deadline !== undefined && now >= wait.deadline)) {
      throw inProgress(key, record, now - wait.startedAt);
    }
    await sleep(pollDelay(n, wait));
    // Eventually consistent: half the read cost, served by any replica, so hundreds of waiters stay under the key's
    // partition read limit (3,000 RCU/s). Safe: a completed result is final, and a stale "lease ended" only leads to
    // an acquire, which DynamoDB evaluates on the latest item.
    record = await readLease<V>(table, key, { ...options, consistent: false });
    if (!isHeldLive(record, wait.clock.now())) return record;
    const sign = signOfLife(record);
    if (sign !== lastSign) {
      lastSign = sign;
      lastSignAt = wait.clock.now();
    }
  }
}

/** What changes when a holder shows it is alive: its renewals move `leaseUntil`, a new holder has a new token. */
function signOfLife(record: LeaseRecord | undefined): string {
  return `${record?.owner}/${record?.fencingToken}/${record?.leaseUntil}`;
}

/** The `lease.inProgress` error for a key held by `record`. */
export function inProgress(
  key: Item,
  record: LeaseRecord | undefined,
  waitedMs: number,
): RacesafeError<'lease.inProgress'> {
  const leaseUntil = record?.leaseUntil ?? 0;
  return new RacesafeError(
    'lease.inProgress',
    `another caller holds the lease on ${JSON.stringify(key)} until ${new Date(leaseUntil).toISOString()}`,
    { key, leaseUntil, waitedMs },
  );
}
