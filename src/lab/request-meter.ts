/** @module Counts the requests a run sends (each SDK attempt), the SDK's retries, and how long each attempt took. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface RequestMeter {
  readonly attempts: number;
  /** Attempts beyond the first of each SDK call: the SDK's own retries. Never negative. */
  readonly retries: number;
  readonly latenciesMs: readonly number[];
}

/**
 * Attaches a meter to a client (below the SDK's retry middleware, so each attempt counts). Retries are counted per
 * call, from the attempts that call made: a call that never reached an attempt (a crash injected above the retry
 * middleware) adds none, rather than -1.
 */
export function meterRequests(client: DynamoDBDocumentClient): RequestMeter {
  const meter = { attempts: 0, retries: 0, latenciesMs: [] as number[] };
  const attemptsOf = new WeakMap<object, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } finally {
        meter.retries += Math.max(0, (attemptsOf.get(context) ?? 0) - 1);
      }
    },
    { step: 'initialize', name: 'racesafeLabCallMeter' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      meter.attempts += 1;
      attemptsOf.set(context, (attemptsOf.get(context) ?? 0) + 1);
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
      return meter.retries;
    },
    get latenciesMs() {
      return meter.latenciesMs;
    },
  };
}
