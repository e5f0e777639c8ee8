/** @module Running work under a held lease: store its result with a fenced write, or free the key when it fails. */
import type { Table } from '../table.js';
import { completeLease, type Lease, type LeaseOptions, releaseLease } from './lease.js';
import type { LeaseRecord } from './record.js';

/** How the work's outcome is stored. */
export interface Holding {
  /** `release`: a failure frees the key at once; `store`: a failure is stored like a result. */
  readonly onError: 'release' | 'store';
  /** How long the stored result stays valid, in ms. */
  readonly validForMs: number;
  readonly leaseOptions: LeaseOptions;
}

/** The work's result was stored, or refused because the lease was taken over (`current` is the record then). */
export type HeldRun<R> =
  | { readonly stored: true; readonly value: R }
  | { readonly stored: false; readonly current: LeaseRecord | undefined };

/** Runs `work` under `lease`, then stores its result (or failure) with a write fenced by the lease's tokens. */
export async function runHolding<R>(
  table: Table,
  lease: Lease,
  holding: Holding,
  work: () => Promise<R>,
): Promise<HeldRun<R>> {
  const options = { ...holding.leaseOptions, validForMs: holding.validForMs };
  let value: R;
  try {
    value = await work();
  } catch (error) {
    if (holding.onError === 'store') {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      await completeLease(table, lease, { error: { name, message } }, options);
    } else {
      await releaseQuietly(table, lease, holding.leaseOptions);
    }
    throw error;
  }
  try {
    const done = await completeLease(table, lease, { value }, options);
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
