import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { guardParts } from '../expression/guard.js';
import { decrement } from '../expression/update.js';
import { defineTable } from '../table.js';
import { buildDeleteIfNotNewer } from './delete-if-not-newer.js';
import { buildGuardedUpdate, buildTrimRecentTokens } from './guarded-update.js';
import { buildPutIfNewer } from './put-if-newer.js';
import { buildUpdateIfNewer } from './update-if-newer.js';
import { buildLockedPut } from './update-with-lock.js';

const client = { send: async () => ({}) } as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'state', partitionKey: 'pk' });

describe('request building (pure)', () => {
  it('putIfNewer: one PutItem with the version condition, the write token and ALL_OLD on failure', () => {
    expect(buildPutIfNewer(table, { pk: 'a', version: 42, _rsDeleted: true }, 'tok')).toEqual({
      TableName: 'state',
      Item: { pk: 'a', version: 42, _rsToken: 'tok' },
      ConditionExpression: '(attribute_not_exists(#n0)) OR (#n1 < :v0)',
      ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'version' },
      ExpressionAttributeValues: { ':v0': 42 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('updateIfNewer: sets the changes, version and token, removes a tombstone mark', () => {
    const input = buildUpdateIfNewer(table, { pk: 'a' }, 3, { status: 'x' }, 'tok');
    expect(input.UpdateExpression).toBe('SET #n0 = :v0, #n1 = :v1, #n2 = :v2 REMOVE #n3');
    expect(input.ExpressionAttributeNames).toEqual({
      '#n0': 'status',
      '#n1': 'version',
      '#n2': '_rsToken',
      '#n3': '_rsDeleted',
      '#n4': 'pk',
    });
    expect(input.ConditionExpression).toBe('(attribute_not_exists(#n4)) OR (#n1 < :v3)');
    expect(input.ReturnValues).toBe('ALL_NEW');
  });

  it('guardedUpdate: existence, no tombstone, the guard, and "not our earlier attempt" via recent tokens', () => {
    const input = buildGuardedUpdate(
      table,
      { pk: 'a' },
      { q: decrement(1) },
      guardParts({ q: { gte: 1 } }, 'require'),
      'tok',
    );
    expect(input.UpdateExpression).toBe(
      'SET #n0 = if_not_exists(#n0, :v0) + :v1, #n1 = list_append(if_not_exists(#n1, :v3), :v4)',
    );
    expect(input.ConditionExpression).toBe(
      '(attribute_exists(#n2)) AND (attribute_not_exists(#n3)) AND (#n0 >= :v5) AND (NOT contains(#n1, :v2))',
    );
    expect(input.ExpressionAttributeNames).toMatchObject({ '#n1': '_rsTokenRecent' });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':v2': 'tok', ':v3': [], ':v4': ['tok'], ':v5': 1 });
  });

  it('guardedUpdate: trims the recent tokens to the newest 16 once past 32, guarded by the oldest entry', () => {
    const recent = Array.from({ length: 33 }, (_, i) => `t${i}`);
    expect(buildTrimRecentTokens(table, { pk: 'a' }, recent.slice(0, 32))).toBeUndefined();
    const trim = buildTrimRecentTokens(table, { pk: 'a' }, recent);
    expect(trim?.UpdateExpression).toBe(`REMOVE ${Array.from({ length: 17 }, (_, i) => `#n0[${i}]`).join(', ')}`);
    expect(trim?.ConditionExpression).toBe('#n0[0] = :v0');
    expect(trim?.ExpressionAttributeValues).toEqual({ ':v0': 't0' });
  });

  it('deleteIfNotNewer: a tombstone put by default, a conditional delete on request', () => {
    const tombstone = buildDeleteIfNotNewer(table, { pk: 'a' }, 5, 'tok', {}, 1_000_000);
    expect(tombstone).toMatchObject({ put: { Item: { pk: 'a', version: 5, _rsDeleted: true, _rsToken: 'tok' } } });
    const hard = buildDeleteIfNotNewer(table, { pk: 'a' }, 5, 'tok', { mode: 'delete' });
    expect(hard).toMatchObject({ delete: { ConditionExpression: '(attribute_not_exists(#n0)) OR (#n1 <= :v0)' } });
    const ttl = buildDeleteIfNotNewer(
      table,
      { pk: 'a' },
      5,
      'tok',
      { tombstoneTtl: { attribute: 'exp', seconds: 60 } },
      10_000,
    );
    expect(ttl).toMatchObject({ put: { Item: { exp: 70 } } });
  });

  it('updateWithLock: create-only, then version = :expected with version + 1 and recent tokens', () => {
    expect(buildLockedPut(table, { pk: 'a' }, undefined, 't1')).toMatchObject({
      Item: { pk: 'a', version: 1, _rsToken: 't1', _rsTokenRecent: ['t1'] },
      ConditionExpression: 'attribute_not_exists(#n0)',
    });
    const next = buildLockedPut(table, { pk: 'a' }, { pk: 'a', version: 4, _rsTokenRecent: ['t1'] }, 't2');
    expect(next).toMatchObject({
      Item: { version: 5, _rsTokenRecent: ['t1', 't2'] },
      ConditionExpression: '#n0 = :v0',
      ExpressionAttributeValues: { ':v0': 4 },
    });
    const many = Array.from({ length: 16 }, (_, i) => `old${i}`);
    const kept = buildLockedPut(table, { pk: 'a' }, { pk: 'a', version: 1, _rsTokenRecent: many }, 'new').Item
      ?._rsTokenRecent;
    expect(kept).toEqual([...many.slice(1), 'new']);
  });
});
