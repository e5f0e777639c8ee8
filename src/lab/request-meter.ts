/** @module Counts the requests a run sends (each SDK attempt) and how long each took. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface RequestMeter {
  readonly attempts: number;
  /** Attempts beyond the first of each SDK call: the SDK's own retries. */
  readonly retries: number;
  readonly latenciesMs: readonly number[];
}

/** Attaches a meter to a client (below the SDK's retry middleware, so each attempt counts). */
export function meterRequests(client: DynamoDBDocumentClient): RequestMeter {
  const meter = { attempts: 0, calls: 0, latenciesMs: [] as number[] };
  client.middlewareStack.add(
    (next) => async (args) => {
      meter.calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'racesafeLabCallMeter' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      meter.attempts += 1;
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        meter.latenciesMs.push(performance.now() - started);
      }
    },
    { step: 'deserialize', name: 'racesafeLabAttemptMeter' },
  );
  return {
    get attempts() {
      return meter.attempts;
    },
    get retries() {
      return meter.attempts - meter.calls;
    },
    get latenciesMs() {
      return meter.latenciesMs;
    },
  };
}
