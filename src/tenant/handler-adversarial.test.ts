/** @module Adversarial review of tenantHandler: a refused invocation must not be logged under the previous tenant's id. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RacesafeError } from '../errors.js';
import { defineTable } from '../table.js';
import { tenantHandler } from './handler.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('tenantHandler and the Powertools Logger across invocations of one environment', () => {
  it.each([
    ['without a tenant id', undefined],
    ['with an empty tenant id', ''],
    ['with an invalid tenant id', 'green#x'],
  ])("an invocation %s, refused, is not logged as the previous invocation's tenant", async (_, tenantId) => {
    // POWERTOOLS_DEV makes the Logger print through the global console (Powertools' documented way to inspect logs).
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const entries: Record<string, unknown>[] = [];
    for (const method of ['info', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((line: string) => {
        entries.push(JSON.parse(line) as Record<string, unknown>);
      });
    }
    const logger = new Logger({ serviceName: 'orders-api' });
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const orders = defineTable({ client, name: 'orders', partitionKey: 'orderId' });
    const handler = tenantHandler(
      async (_event: unknown, _context, tenant) => {
        logger.info('handled');
        return tenant.tenantId;
      },
      { tables: { orders }, logger },
    );
    // Module scope survives between invocations of one environment, and so do the Logger's appended keys.
    const invoke = async (id: string | undefined) => {
      try {
        return await handler({}, { tenantId: id } as unknown as Context);
      } catch (error) {
        // What a wrapper outside tenantHandler (middy, Powertools' own) does with the failure.
        logger.error('invocation failed', error as Error);
        return error instanceof RacesafeError ? error.code : 'other';
      }
    };
    expect(await invoke('blue')).toBe('blue');
    expect(await invoke(tenantId)).not.toBe('blue');
    expect(entries.map((entry) => [entry.message, entry.tenantId])).toEqual([
      ['handled', 'blue'],
      ['invocation failed', undefined],
    ]);
  });
});
