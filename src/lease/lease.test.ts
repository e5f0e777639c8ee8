import type { DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { defineTable } from '../table.js';
import { cached } from './cached.js';
import { manualClock } from './clock.js';
import { idempotent, idempotentHandler } from './idempotent.js';
import { acquireLease, type Lease, leaseSettings, readLease } from './lease.js';
import { canonicalJson, payloadHash } from './payload.js';
import { toLeaseRecord } from './record.js';
import {
  buildAcquireLease,
  buildCompleteLease,
  buildReleaseLease,
  buildRenewLease,
  classifyAcquire,
  classifyFenced,
} from './requests.js';
import { pollDelay, waitSettings } from './wait.js';

// Request building is pure: no client is ever called in this file.
const client = {
  send: () => Promise.reject(new Error('no requests in unit tests')),
} as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'leases', partitionKey: 'pk' });
const settings = leaseSettings(table, { leaseMs: 1_000, clock: manualClock(0), retainMs: 10_000 });
const lease: Lease = { key: { pk: 'k' }, owner: 'owner-1', fencingToken: 3, leaseUntil: 1_000 };

/** An expression with its placeholders put back, to read the rule as DynamoDB will evaluate it. */
function rendered(request: UpdateCommandInput, field: 'ConditionExpression' | 'UpdateExpression'): string {
  const names = request.ExpressionAttributeNames ?? {};
  const values = request.ExpressionAttributeValues ?? {};
  return (request[field] ?? '')
    .replace(/#n\d+/g, (placeholder) => String(names[placeholder]))
    .replace(/:v\d+/g, (placeholder) => JSON.stringify(values[placeholder]));
}

describe('lease requests', () => {
  it('acquire: one UpdateItem, every name and value a placeholder, fencing token + 1, ALL_NEW and ALL_OLD', () => {
    const request = buildAcquireLease(table, { pk: 'k' }, settings, { owner: 'o', now: 5_000, payloadHash: 'h' });
    expect(request).toMatchObject({
      TableName: 'leases',
      Key: { pk: 'k' },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(request.ConditionExpression).not.toMatch(/leaseState|held|pk/);
    expect(rendered(request, 'ConditionExpression')).toBe(
      '(attribute_not_exists(pk)) OR ((leaseState = "held") AND (leaseUntil <= 5000)) OR (leaseState = "released") ' +
        'OR ((leaseState = "completed") AND (validUntil <= 5000))',
    );
    expect(rendered(request, 'UpdateExpression')).toBe(
      'SET leaseState = "held", leaseOwner = "o", leaseUntil = 6000, ' +
        'fencingToken = if_not_exists(fencingToken, 0) + 1, payloadHash = "h", expiresAt = 16 REMOVE storedError',
    );
  });

  it('renew, complete and release are fenced by state, owner token and fencing token', () => {
    for (const request of [
      buildRenewLease(table, lease, settings, 2_000),
      buildCompleteLease(table, lease, { value: 1 }, { ...settings, validForMs: 60_000 }, 2_000),
      buildReleaseLease(table, lease, settings, 2_000),
    ]) {
      expect(rendered(request, 'ConditionExpression')).toBe(
        '(leaseState = "held") AND (leaseOwner = "owner-1") AND (fencingToken = 3)',
      );
      expect(request.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    }
  });

  it('classifyAcquire: our own earlier attempt is acquired, a valid result is completed, a live holder busy, no record again', () => {
    const record = (fields: Record<string, unknown>) => ({ pk: 'k', fencingToken: 4, leaseUntil: 9_000, ...fields });
    const ours = classifyAcquire(table, { pk: 'k' }, record({ leaseState: 'held', leaseOwner: 'me' }), {
      owner: 'me',
      now: 1_000,
    });
    expect(ours).toMatchObject({ result: { status: 'acquired', lease: { owner: 'me', fencingToken: 4 } } });
    const done = record({ leaseState: 'completed', leaseOwner: 'other', validUntil: 5_000, value: 7 });
    expect(classifyAcquire(table, { pk: 'k' }, done, { owner: 'me', now: 1_000 })).toMatchObject({
      result: { status: 'completed', current: { value: 7 } },
    });
    const held = record({ leaseState: 'held', leaseOwner: 'other' });
    expect(classifyAcquire(table, { pk: 'k' }, held, { owner: 'me', now: 1_000 })).toMatchObject({
      result: { status: 'busy' },
      reason: 'held by other',
    });
    expect(classifyAcquire(table, { pk: 'k' }, undefined, { owner: 'me', now: 1_000 })).toHaveProperty('again');
    expect(() => classifyAcquire(table, { pk: 'k' }, { pk: 'k', n: 1 }, { owner: 'me', now: 0 })).toThrow(
      expect.objectContaining({ code: 'validation.invalidInput' }),
    );
  });

  it('classifyFenced: only our own landed state counts as success; anything else is lost', () => {
    const success = () => ({ status: 'completed' as const });
    const stored = (fields: Record<string, unknown>) => ({ pk: 'k', leaseUntil: 1, ...fields });
    const landed = stored({ leaseState: 'completed', leaseOwner: 'owner-1', fencingToken: 3 });
    expect(classifyFenced(table, lease, landed, 'completed', success)).toMatchObject({
      result: { status: 'completed' },
    });
    // A renew has no landed state to recognise: a failed condition is always lost.
    expect(classifyFenced(table, lease, landed, undefined, success)).toMatchObject({ result: { status: 'lost' } });
    const newer = stored({ leaseState: 'completed', leaseOwner: 'owner-2', fencingToken: 4 });
    expect(classifyFenced(table, lease, newer, 'completed', success)).toMatchObject({
      result: { status: 'lost', current: { fencingToken: 4 } },
      reason: 'fencing token 3 lost to 4 (completed)',
    });
    expect(classifyFenced(table, lease, undefined, 'completed', success)).toMatchObject({
      result: { status: 'lost', current: undefined },
    });
  });

  it('complete stores the value, or removes it for undefined, or stores a failure', () => {
    const complete = (result: Parameters<typeof buildCompleteLease>[2]) =>
      buildCompleteLease(table, lease, result, { ...settings, validForMs: 60_000 }, 2_000);
    expect(Object.values(complete({ value: { a: 1 } }).ExpressionAttributeValues ?? {})).toContainEqual({ a: 1 });
    expect(complete({ value: undefined }).UpdateExpression).toMatch(/REMOVE #n\d+$/);
    expect(
      Object.values(complete({ error: { name: 'E', message: 'm' } }).ExpressionAttributeValues ?? {}),
    ).toContainEqual({ name: 'E', message: 'm' });
  });

  it('reads a record from an item; an item without a lease state is not one', () => {
    expect(
      toLeaseRecord({ pk: 'k', leaseState: 'completed', fencingToken: 2, leaseUntil: 5, validUntil: 9, value: null }),
    ).toMatchObject({ state: 'completed', fencingToken: 2, hasValue: true, value: null, validUntil: 9 });
    expect(toLeaseRecord({ pk: 'k', leaseState: 'other' })).toBeUndefined();
    expect(toLeaseRecord(undefined)).toBeUndefined();
  });
});

describe('options are validated before any request', () => {
  it('rejects unknown options, bad durations and a TTL attribute that is a lease field or a key', async () => {
    await expect(acquireLease(table, { pk: 'k' }, { leaseMS: 5 } as never)).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'acquireLease.leaseMS' },
    });
    expect(() => leaseSettings(table, { leaseMs: 0 })).toThrow(/leaseMs/);
    expect(() => leaseSettings(table, { leaseMs: 1.5 })).toThrow(/leaseMs/);
    expect(() => leaseSettings(table, { ttlAttribute: 'fencingToken' })).toThrow(/ttlAttribute/);
    expect(() => leaseSettings(table, { ttlAttribute: 'pk' })).toThrow(/ttlAttribute/);
    expect(() => idempotent(async () => 1, { table, key: () => 'k', onInProgress: 'skip' as never })).toThrow(
      /onInProgress/,
    );
    expect(() => idempotent(async () => 1, { table, key: () => 'k', poll: { capMs: 1, everyMs: 5 } as never })).toThrow(
      /poll.*everyMs/,
    );
    expect(() => idempotentHandler(async () => 1, { table, key: () => 'k', leaseMs: 'long' as never })).toThrow(
      /leaseMs/,
    );
    await expect(cached(table, 'k', async () => 1, { staleWhileRevalidate: -1 })).rejects.toThrow(
      /staleWhileRevalidate/,
    );
  });
});

describe('option values (issue 12): a typed error naming the option, before any request', () => {
  it('poll, payloadHash, consistent, heartbeatMs and errorTtl are checked by their rules', async () => {
    const refused = (field: RegExp) => new RegExp(`^option [a-zA-Z]+\\.${field.source}`);
    expect(() => idempotent(async () => 1, { table, key: () => 'k', poll: 5 as never })).toThrow(refused(/poll/));
    expect(() => idempotent(async () => 1, { table, key: () => 'k', heartbeatMs: -1 })).toThrow(refused(/heartbeatMs/));
    await expect(acquireLease(table, { pk: 'k' }, { payloadHash: 5 as never })).rejects.toThrow(refused(/payloadHash/));
    await expect(readLease(table, { pk: 'k' }, { consistent: 'yes' as never })).rejects.toThrow(refused(/consistent/));
    await expect(cached(table, 'k', async () => 1, { errorTtl: 'x' as never })).rejects.toThrow(refused(/errorTtl/));
    await expect(cached(table, 'k', async () => 1, { poll: { capMs: 0 } })).rejects.toThrow(refused(/poll/));
    await expect(cached(table, 'k', async () => 1, { heartbeatMs: 60_000 })).rejects.toThrow(/heartbeatMs/);
    await expect(readLease(table, { pk: 'k' }, { consistent: 'yes' as never })).rejects.toMatchObject({
      code: 'validation.invalidOption',
      details: { field: 'readLease.consistent' },
    });
  });
});

describe('polling delays', () => {
  it('start small, double with jitter in [half, all] of the ceiling, and stop growing at capMs', () => {
    const low = waitSettings({ firstDelayMs: 10, capMs: 200 }, 1_000, manualClock(0));
    const delays = (random: number) =>
      Array.from({ length: 8 }, (_, n) => pollDelay(n, { ...low, random: () => random }));
    expect(delays(0)).toEqual([5, 10, 20, 40, 80, 100, 100, 100]);
    expect(delays(0.999)).toEqual([9, 19, 39, 79, 159, 199, 199, 199]);
    expect(low.maxWaitMs).toBe(2_000);
  });
});

describe('payload fingerprints', () => {
  it('ignore object key order and tell different payloads apart', () => {
    expect(payloadHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(payloadHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(payloadHash({ a: 1 })).not.toBe(payloadHash({ a: 2 }));
    expect(payloadHash([1, 2])).not.toBe(payloadHash([2, 1]));
    expect(canonicalJson(undefined)).toBe('undefined');
  });
});
