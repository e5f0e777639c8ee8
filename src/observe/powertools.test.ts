import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

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
        op: 'putIfNewer',
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

  it('writes one structured JSON entry per outcome through a real Powertools Logger', () => {
    // POWERTOOLS_DEV makes the Logger print through the global console (Powertools' documented way to inspect logs).
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const entries: Array<[string, Record<string, unknown>]> = [];
    for (const method of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((line: string) => {
        entries.push([method, JSON.parse(line)]);
      });
    }
    // DEBUG so that an entry sent at the wrong level would still be captured, not filtered out.
    const logger = new Logger({ serviceName: 'consumer', logLevel: 'DEBUG' });
    powertoolsLogger(logger)(event('stale', { attempts: 2, latencyMs: 7, reason: 'version 42 is newer than 41' }));
    expect(entries).toHaveLength(1);
    const [level, entry] = entries[0] ?? [];
    expect(level).toBe('info');
    expect(entry).toMatchObject({ level: 'INFO', message: 'racesafe putIfNewer stale', service: 'consumer' });
    expect(entry?.racesafe).toEqual({
      op: 'putIfNewer',
      table: 'state',
      key: { pk: 'a' },
      status: 'stale',
      attempts: 2,
      latencyMs: 7,
      reason: 'version 42 is newer than 41',
    });
  });

  it("puts a tenant scope's tenantId in the entry, and with tenantHandler's appendKeys on every line of the invocation", () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const entries: Record<string, unknown>[] = [];
    for (const method of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((line: string) => {
        entries.push(JSON.parse(line));
      });
    }
    const logger = new Logger({ serviceName: 'orders-api', logLevel: 'DEBUG' });
    logger.appendKeys({ tenantId: 'blue' }); // what tenantHandler does per invocation
    powertoolsLogger(logger)(event('stale', { tenantId: 'blue' }));
    powertoolsLogger(logger)(event('stale'));
    expect(entries[0]).toMatchObject({ tenantId: 'blue', racesafe: { tenantId: 'blue', status: 'stale' } });
    expect(entries[1]).toMatchObject({ racesafe: { status: 'stale' } });
    expect(entries[1]?.racesafe).not.toHaveProperty('tenantId');
  });
});
