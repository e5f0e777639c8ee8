/** @module Adapters from outcome events to Powertools for AWS Lambda (metrics and logger), typed structurally. */
import { conditionFailureStatuses, type Observer, type OutcomeEvent, type OutcomeStatus } from './events.js';

/** The part of `@aws-lambda-powertools/metrics`' `Metrics` we use. */
export interface MetricsLike {
  addMetric(name: string, unit: 'Count', value: number): void;
}

export interface MetricsObserverOptions {
  /** Prefix of every metric name. @default 'Racesafe' */
  readonly prefix?: string;
}

const metricSuffix: Record<OutcomeStatus, string> = {
  applied: 'Applied',
  stale: 'Stale',
  duplicate: 'Duplicate',
  rejected: 'Rejected',
  missing: 'Missing',
  unchanged: 'Unchanged',
  conflict: 'Conflict',
  cancelled: 'Cancelled',
  retried: 'Retried',
  error: 'Error',
  acquired: 'LeaseAcquired',
  busy: 'LeaseBusy',
  completed: 'LeaseCompleted',
  renewed: 'LeaseRenewed',
  released: 'LeaseReleased',
  lost: 'LeaseLost',
};

/**
 * Counts outcomes by status (`RacesafeApplied`, `RacesafeStale`, …) and the condition-failure family
 * (stale, duplicate, rejected, conflict) as `RacesafeConditionFailed`, the number the stories ask to alarm on.
 *
 * @example
 * ```ts
 * import { Metrics } from '@aws-lambda-powertools/metrics';
 * import { powertoolsMetrics } from 'racesafe';
 *
 * const metrics = new Metrics({ namespace: 'orders', serviceName: 'consumer' });
 * const observe = powertoolsMetrics(metrics);
 * ```
 */
export function powertoolsMetrics(metrics: MetricsLike, options: MetricsObserverOptions = {}): Observer {
  const prefix = options.prefix ?? 'Racesafe';
  return (event) => {
    metrics.addMetric(`${prefix}${metricSuffix[event.status]}`, 'Count', 1);
    if (conditionFailureStatuses.has(event.status)) metrics.addMetric(`${prefix}ConditionFailed`, 'Count', 1);
  };
}

/** The part of `@aws-lambda-powertools/logger`'s `Logger` we use. */
export interface LoggerLike {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerObserverOptions {
  /**
   * Level per status.
   * @default applied: debug, retried: debug, stale: info, duplicate: info, missing: info, unchanged: debug, rejected: warn,
   *   conflict: warn, cancelled: warn, error: error; leases: lost: warn, acquired/busy/completed/renewed/released: debug
   */
  readonly levels?: Partial<Record<OutcomeStatus, LogLevel>>;
}

const defaultLevels: Record<OutcomeStatus, LogLevel> = {
  applied: 'debug',
  retried: 'debug',
  stale: 'info',
  duplicate: 'info',
  missing: 'info',
  unchanged: 'debug',
  rejected: 'warn',
  conflict: 'warn',
  cancelled: 'warn',
  error: 'error',
  acquired: 'debug',
  busy: 'debug',
  completed: 'debug',
  renewed: 'debug',
  released: 'debug',
  lost: 'warn',
};

/**
 * Logs each outcome as one structured line (`racesafe putIfNewer stale`) whose `racesafe` field holds the operation,
 * table, key, status, attempts, latency, reason and the caller's context (for example a stream event's id and version),
 * so that log queries can filter on any of them.
 *
 * @example
 * ```ts
 * import { Logger } from '@aws-lambda-powertools/logger';
 * import { powertoolsLogger } from 'racesafe';
 *
 * const observe = powertoolsLogger(new Logger({ serviceName: 'consumer' }), { levels: { applied: 'silent' } });
 * ```
 */
export function powertoolsLogger(logger: LoggerLike, options: LoggerObserverOptions = {}): Observer {
  const levels = { ...defaultLevels, ...options.levels };
  return (event: OutcomeEvent) => {
    const level = levels[event.status];
    if (level === 'silent') return;
    logger[level](`racesafe ${event.op} ${event.status}`, {
      racesafe: {
        op: event.op,
        table: event.table,
        key: event.key,
        status: event.status,
        attempts: event.attempts,
        latencyMs: event.latencyMs,
        ...(event.reason === undefined ? {} : { reason: event.reason }),
        ...(event.context === undefined ? {} : { context: event.context }),
        ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
      },
    });
  };
}
