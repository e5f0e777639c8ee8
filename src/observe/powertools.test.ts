import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import type { OutcomeEvent } from './events.js';
import { type LoggerLike, powertoolsLogger, powertoolsMetrics } from './powertools.js';

const event = (status: OutcomeEvent['status'], extra: Partial<OutcomeEvent> = {}): OutcomeEvent => ({
  op: 'putIfNewer',
  table: 'state',
  key: { pk: 'a' },
  status,
  attempts: 1,
  latencyMs: 3,
  ...extra,
});

describe('powertoolsMetrics', () => {
  it('counts by status and the condition-failure family, on a real Powertools Metrics', () => {
    const metrics = new Metrics({ namespace: 'test', serviceName: 'svc' });
    const observe = powertoolsMetrics(metrics);
    for (const status of ['applied', 'applied', 'stale', 'duplicate', 'rejected', 'conflict', 'retried'] as const) {
      observe(event(status));
    }
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({
      RacesafeApplied: [1, 1],
      RacesafeStale: 1,
      RacesafeDuplicate: 1,
      RacesafeRejected: 1,
      RacesafeConflict: 1,
      RacesafeRetried: 1,
      RacesafeConditionFailed: [1, 1, 1, 1],
    });
  });
});

describe('powertoolsLogger', () => {
  it('logs each outcome at its level with key, reason and the caller context', () => {
    const lines: Array<[string, string, object]> = [];
    const logger = Object.fromEntries(
      (['debug', 'info', 'warn', 'error'] as const).map((level) => [
        level,
        (message: string, extra: object) => lines.push([level, message, extra]),
      ]),
    ) as unknown as LoggerLike;
    const observe = powertoolsLogger(logger, { levels: { applied: 'silent' } });
    observe(event('applied'));
    observe(event('stale', { reason: 'version 42 is newer than 41', context: { eventId: 'e1', version: 41 } }));
    observe(event('conflict'));
    expect(lines.map(([level, message]) => [level, message])).toEqual([
      ['info', 'racesafe putIfNewer stale'],
      ['warn', 'racesafe putIfNewer conflict'],
    ]);
    expect(lines[0]?.[2]).toEqual({
      racesafe: {
        table: 'state',
        key: { pk: 'a' },
        status: 'stale',
        attempts: 1,
        latencyMs: 3,
        reason: 'version 42 is newer than 41',
        context: { eventId: 'e1', version: 41 },
      },
    });
  });
});
