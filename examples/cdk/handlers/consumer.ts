/** @module The deployed consumer: the pipeline's kinesisHandler + putIfNewer, with racesafe's metrics (EMF) and log lines. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { type Observer, powertoolsLogger, powertoolsMetrics } from 'racesafe';
import { documentClientFromEnv, requiredEnv } from '../../pipeline/config.js';
import { createConsumer } from '../../pipeline/consumer.js';

// Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (set by StreamConsumer):
// the alarms of ConsumerMonitoring read the same names.
const metrics = new Metrics();
const logger = new Logger();
const toMetrics = powertoolsMetrics(metrics);
// Stale and duplicate lines feed the contention rule (Contributor Insights); applied writes stay silent.
const toLogs = powertoolsLogger(logger, { levels: { applied: 'silent' } });
const observe: Observer = (event) => {
  toMetrics(event);
  toLogs(event);
};

let consume: ReturnType<typeof createConsumer> | undefined;

/**
 * The Lambda entry point: partial batch responses (the event source mapping sets ReportBatchItemFailures), metrics
 * flushed as one EMF line per invocation.
 *
 * @example
 * ```ts
 * import { handler } from './consumer.js';
 *
 * process.env.STATE_TABLE = 'device-state';
 * const response = await handler({ Records: [] });
 * ```
 */
export async function handler(event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> {
  consume ??= createConsumer({
    client: documentClientFromEnv(),
    tableName: requiredEnv('STATE_TABLE'),
    collapse: true,
    observe,
  });
  try {
    return await consume(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
}
