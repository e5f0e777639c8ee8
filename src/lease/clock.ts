/** @module The one clock of leases: every lease expiry and result validity is read from a `Clock`. */
import { invalidInput } from '../errors.js';

/**
 * Wall-clock time in epoch milliseconds, shared by every worker that touches a lease record.
 *
 * Clock-skew assumption: the clocks of all workers differ by much less than a lease (Lambda and EC2 sync to the
 * Amazon Time Sync Service, typically within a millisecond; keep leases in seconds). Skew never breaks safety: every
 * renew, complete and release is conditioned on the owner token and the fencing token, so a worker whose lease was
 * taken over writes nothing, whatever the clocks say. Skew only moves liveness: a worker with a fast clock may take
 * over a lease early (the function then runs twice, and only the newer result is stored); one with a slow clock
 * takes over late.
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/**
 * The system clock (`Date.now()`).
 *
 * @example
 * ```ts
 * import { systemClock } from 'racesafe';
 *
 * const leaseUntil = systemClock.now() + 30_000;
 * ```
 */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: for tests that expire leases without waiting. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
}

/**
 * A controllable clock, e.g. to expire a lease in a test without sleeping.
 *
 * @example
 * ```ts
 * import { manualClock } from 'racesafe';
 *
 * const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'));
 * clock.advance(30_001); // every lease of 30 s taken before this is now expired
 * ```
 */
export function manualClock(start: number = Date.now()): ManualClock {
  if (!Number.isSafeInteger(start) || start < 0) throw invalidInput('start', 'must be epoch milliseconds');
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw invalidInput('ms', 'must be a finite number >= 0');
      now += ms;
    },
  };
}
