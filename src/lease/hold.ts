/** @module Running work under a held lease: renew it while the work runs, then store the result with a fenced write. */
import type { Table } from '../table.js';
import { startHeartbeat, withLeaseSignal } from './heartbeat.js';
import { completeLease, type Lease, type LeaseOptions, type LeaseSettings, releaseLease } from './lease.js';
import type { LeaseRecord } from './record.js';

/** How the work's outcome is stored. */
export interface Holding {
  /** `release`: a failure frees the key at once; `store`: a failure is stored like a result. */
  readonly onError: 'release' | 'store';
  /** How long the stored result stays valid, in ms. */
  readonly validForMs: number;
  /** How long a stored failure stays valid, in ms (`onError: 'store'`). */
  readonly errorValidForMs: number;
  readonly leaseOptions: LeaseOptions & LeaseSettings;
  /** Renew the lease this often while the work runs, in ms; 0: never. */
  readonly heartbeatMs: number;
  /** The lease a renewal grants now, when it is not `leaseOptions.leaseMs` (see {@link HeartbeatPlan}). */
  readonly leaseFor?: () => number;
}

/**
 * The work's result was stored, or not because the lease was lost (taken over, or ended without a renewal):
 * `current` is the record then, and the caller behaves like any duplicate (waits for, or takes over, the key).
 */
export type HeldRun<R> =
  | { readonly stored: true; readonly value: R }
  | { readonly stored: false; readonly current: LeaseRecord | undefined };

/**
 * Runs `work` under `lease` with a heartbeat, then stores its result (or failure) with a write fenced by the lease's
 * tokens. The work gets the heartbeat's signal (also from `leaseSignal()`); a failure after the lease was lost is
 * not the caller's to report (another holder runs the work now), so it ends like a refused result.
 */
export async function runHolding<R>(
  table: Table,
  lease: Lease,
  holding: Holding,
  work: (signal: AbortSignal) => Promise<R>,
): Promise<HeldRun<R>> {
  const heartbeat = startHeartbeat(table, lease, {
    intervalMs: holding.heartbeatMs,
    leaseOptions: holding.leaseOptions,
    ...(holding.leaseFor === undefined ? {} : { leaseFor: holding.leaseFor }),
  });
  let value: R;
  try {
    value = await withLeaseSignal(heartbeat.signal, () => work(heartbeat.signal));
  } catch (error) {
    const end = await heartbeat.stop();
    if (end.lost) {
      // Perhaps nobody took over (`expired`): free the key so the next caller need not wait out the lease.
      await releaseQuietly(table, lease, holding.leaseOptions);
      return { stored: false, current: end.current };
    }
    if (holding.onError === 'store') {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      const options = { ...holding.leaseOptions, validForMs: holding.errorValidForMs };
      await completeLease(table, lease, { error: { name, message } }, options);
    } else {
      await releaseQuietly(table, lease, holding.leaseOptions);
    }
    throw error;
  }
  const end = await heartbeat.stop();
  // A takeover is certain: the fenced completion would be refused, so skip it. An `expired` lease may still be ours:
  // the fence decides.
  if (end.lost && end.reason === 'takenOver') return { stored: false, current: end.current };
  try {
    const done = await completeLease(
      table,
      lease,
      { value },
      { ...holding.leaseOptions, validForMs: holding.validForMs },
    );
    return done.status === 'completed' ? { stored: true, value } : { stored: false, current: done.current };
  } catch (error) {
    // Not stored (too large, or DynamoDB failed): free the key rather than make duplicates wait out the lease.
    await releaseQuietly(table, lease, holding.leaseOptions);
    throw error;
  }
}

/** Best effort: if the release fails too, the lease simply runs out; the caller's own error is the one to report. */
async function releaseQuietly(table: Table, lease: Lease, options: LeaseOptions): Promise<void> {
  try {
    await releaseLease(table, lease, options);
  } catch {
    // Deliberately ignored: see above.
  }
}
