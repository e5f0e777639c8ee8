/** @module Heartbeats: a holder renews its lease while its work runs, and learns (an AbortSignal) when it lost it. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidOption, RacesafeError } from '../errors.js';
import type { Table } from '../table.js';
import { checkDuration, type Lease, type LeaseOptions, type LeaseSettings, renewLease } from './lease.js';
import type { LeaseRecord } from './record.js';

export interface HeartbeatOptions {
  /**
   * How often the holder renews its lease while its work runs, in ms: below `leaseMs`, so that a renewal has
   * `leaseMs - heartbeatMs` to land. `0` turns heartbeats off: only for work that surely ends within its lease (a
   * longer run is then taken over and run again). @default a third of leaseMs
   */
  readonly heartbeatMs?: number;
}

/** The heartbeat interval with its default applied; checked against the lease it renews. */
export function heartbeatInterval(heartbeatMs: number | undefined, leaseMs: number): number {
  const interval = heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3));
  checkDuration(interval, 'heartbeatMs', 0);
  if (interval >= leaseMs) throw invalidOption('heartbeatMs', `must be below leaseMs (${leaseMs}), or 0 for none`);
  return interval;
}

/** How a heartbeat renews. */
export interface HeartbeatPlan {
  readonly intervalMs: number;
  /** The lease options of every renewal (their `leaseMs` is the lease each renewal grants, unless `leaseFor` says). */
  readonly leaseOptions: LeaseOptions & LeaseSettings;
  /** The lease a renewal grants now (e.g. capped by a Lambda invocation's remaining time); < 1: do not renew. */
  readonly leaseFor?: () => number;
}

/** How a heartbeat ended: `lost` when the lease was found taken over or ran out (the signal was aborted then). */
export type HeartbeatEnd =
  | { readonly lost: false }
  | { readonly lost: true; readonly reason: 'takenOver' | 'expired'; readonly current: LeaseRecord | undefined };

export interface Heartbeat {
  /** Aborted (with a `lease.lost` RacesafeError as its reason) once the holder knows or fears it lost the lease. */
  readonly signal: AbortSignal;
  /** Stops renewing; resolves once a renewal in flight has answered. */
  stop(): Promise<HeartbeatEnd>;
}

/**
 * Renews `lease` every `intervalMs` until stopped, one renewal at a time. Each renewal is the fenced `renewLease`
 * (owner token AND fencing token), so a heartbeat can never extend a lease another holder took over.
 *
 * ```
 * holder  acquire ─ renew ─ renew ─ renew ─ complete          (work longer than a lease, never taken over)
 * waiter     poll: held ... held ... held ... completed → the result
 * zombie  acquire ─ (paused: no renewal) ···· renew → lost: signal aborted; complete → lost: nothing written
 * ```
 *
 * A renewal that fails (throttled, unreachable) is tried again at the next beat; if none lands before the lease ends
 * by the holder's clock, the signal aborts with `expired`: another caller may already run the work.
 */
export function startHeartbeat(table: Table, lease: Lease, plan: HeartbeatPlan): Heartbeat {
  const controller = new AbortController();
  const { clock } = plan.leaseOptions;
  let leaseUntil = lease.leaseUntil;
  let end: HeartbeatEnd = { lost: false };
  let inFlight: Promise<void> | undefined;
  // Whether the latest renewal attempt landed (the acquire counts as one).
  let renewing = true;
  let stopped = false;

  const lose = (reason: 'takenOver' | 'expired', current: LeaseRecord | undefined) => {
    if (end.lost || stopped) return;
    end = { lost: true, reason, current };
    const why = reason === 'takenOver' ? 'another holder took it over' : 'no renewal landed before it ended';
    controller.abort(
      new RacesafeError('lease.lost', `the lease on ${JSON.stringify(lease.key)} is lost: ${why}`, {
        key: lease.key,
        fencingToken: lease.fencingToken,
        reason,
      }),
    );
  };

  const renew = async () => {
    const leaseMs = plan.leaseFor?.() ?? plan.leaseOptions.leaseMs;
    if (leaseMs < 1) return;
    try {
      const renewed = await renewLease(table, lease, { ...plan.leaseOptions, leaseMs: Math.floor(leaseMs) });
      if (renewed.status === 'renewed') {
        leaseUntil = renewed.lease.leaseUntil;
        renewing = true;
      } else lose('takenOver', renewed.current);
    } catch {
      // A failed renewal is tried again at the next beat; the lease's end (checked each beat) bounds the attempts.
      renewing = false;
    }
  };

  const beat = () => {
    if (stopped || end.lost) return;
    // Past the lease's end by our clock, a renewal can still land (the fence is the tokens, not the time) if nobody
    // took over: keep trying while the last attempt landed. Abort only when renewals fail or hang past the end.
    if (clock.now() >= leaseUntil && (!renewing || inFlight !== undefined)) return lose('expired', undefined);
    // One renewal at a time: a renewal still waiting for its answer is not doubled.
    if (inFlight === undefined) {
      inFlight = renew().finally(() => {
        inFlight = undefined;
      });
    }
  };

  const timer = plan.intervalMs > 0 ? setInterval(beat, plan.intervalMs) : undefined;
  return {
    signal: controller.signal,
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await inFlight;
      stopped = true;
      return end;
    },
  };
}

const signals = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` so that {@link leaseSignal} inside it returns `signal`. */
export function withLeaseSignal<R>(signal: AbortSignal, work: () => Promise<R>): Promise<R> {
  return signals.run(signal, work);
}

/**
 * The signal of the lease under which the current `idempotent` function, `idempotentHandler` handler or `cached`
 * loader runs (undefined outside one). It aborts, with a `lease.lost` RacesafeError as its `reason`, when the lease
 * was taken over or ran out without a renewal: stop the work (its result would be refused), or pass the signal on to
 * `fetch` or the AWS SDK (`abortSignal`).
 *
 * @example
 * ```ts
 * import { defineTable, idempotent, leaseSignal } from 'racesafe';
 * import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 *
 * declare const client: DynamoDBDocumentClient;
 * const table = defineTable({ client, name: 'idempotency', partitionKey: 'pk' });
 * const render = idempotent(
 *   async (reportId: string) => {
 *     const response = await fetch(`https://reports.example/${reportId}`, { signal: leaseSignal() ?? null });
 *     return response.text();
 *   },
 *   { table, key: (reportId) => `report#${reportId}`, leaseMs: 10_000 },
 * );
 * ```
 */
export function leaseSignal(): AbortSignal | undefined {
  return signals.getStore();
}
