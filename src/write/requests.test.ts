import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { guardParts } from '../expression/guard.js';
import { decrement } from '../expression/update.js';
import { defineTable } from '../table.js';
import { buildDeleteIfNotNewer } from './delete-if-not-newer.js';
import { buildGuardedUpdate } from './guarded-update.js';
import { buildPutIfNewer } from './put-if-newer.js';
import { newWriteToken } from './recent-tokens.js';
import { buildUpdateIfNewer } from './update-if-newer.js';
import { buildLockedPut } from './update-with-lock.js';

const client = { send: async () => ({}) } as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'state', partitionKey: 'pk' });

/** A fresh token register: `token` in slot 0, the other slots absent. */
const register = (token: string) => ({ _rsToken0: token });

describe('request building (pure)', () => {
  it('putIfNewer: one PutItem with the version condition, a fresh token register and ALL_OLD on failure', () => {
    expect(buildPutIfNewer(table, { pk: 'a', version: 42, _rsDeleted: true, _rsToken3: 'old' }, 'tok')).toEqual({
      TableName: 'state',
      Item: { pk: 'a', version: 42, ...register('tok') },
      ConditionExpression: '(attribute_not_exists(#rsKey)) OR (#rsVersion < :rsVersion)',
      ExpressionAttributeNames: { '#rsKey': 'pk', '#rsVersion': 'version' },
      ExpressionAttributeValues: { ':rsVersion': 42 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('updateIfNewer: sets the changes and version, shifts the token register, removes a tombstone mark', () => {
    const input = buildUpdateIfNewer(table, { pk: 'a' }, 3, { status: 'x' }, 'tok');
    const shifts = Array.from({ length: 15 }, (_, j) => `#rs${15 - j} = if_not_exists(#rs${14 - j}, :rsNone)`).join(
      ', ',
    );
    expect(input.UpdateExpression).toBe(`SET #n0 = :v0, #n1 = :v1, ${shifts}, #rs0 = :rsTok REMOVE #n2`);
    expect(input.ExpressionAttributeNames).toMatchObject({
      '#n2': '_rsDeleted',
      '#rs0': '_rsToken0',
      '#rs15': '_rsToken15',
    });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':rsNone': '-', ':rsTok': 'tok' });
    expect(input.ConditionExpression).toBe('(attribute_not_exists(#rsKey)) OR (#rsVersion < :rsVersion)');
    expect(input.ExpressionAttributeNames).toMatchObject({ '#rsKey': 'pk', '#rsVersion': 'version' });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':rsVersion': 3 });
    expect(input.ReturnValues).toBe('ALL_NEW');
  });

  it('guardedUpdate: existence, no tombstone, the guard, and "not our earlier attempt" over the whole register', () => {
    const input = buildGuardedUpdate(
      table,
      { pk: 'a' },
      { q: decrement(1) },
      guardParts({ q: { gte: 1 } }, 'require'),
      'tok',
    );
    expect(input.UpdateExpression).toMatch(
      /^SET #n0 = if_not_exists\(#n0, :v0\) \+ :v1, #rs15 = if_not_exists\(#rs14, :rsNone\), .* #rs0 = :rsTok$/,
    );
    const notMine = Array.from({ length: 16 }, (_, slot) => `#rs${slot} = :rsTok`).join(' OR ');
    expect(input.ConditionExpression).toBe(
      `(attribute_exists(#rsKey) AND attribute_not_exists(#rsTomb)) AND (#n0 >= :v2) AND (NOT (${notMine}))`,
    );
    expect(input.ExpressionAttributeNames).toMatchObject({ '#n0': 'q', '#rsKey': 'pk', '#rsTomb': '_rsDeleted' });
    expect(input.ExpressionAttributeValues).toEqual({ ':v0': 0, ':v1': -1, ':v2': 1, ':rsNone': '-', ':rsTok': 'tok' });
  });

  it('deleteIfNotNewer: a tombstone put by default, a conditional delete on request', () => {
    const tombstone = buildDeleteIfNotNewer(table, { pk: 'a' }, 5, 'tok', {}, 1_000_000);
    expect(tombstone).toMatchObject({ put: { Item: { pk: 'a', version: 5, _rsDeleted: true, _rsToken0: 'tok' } } });
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

  it('updateWithLock: create-only, then version = :expected with version + 1 and the register shifted by the writer', () => {
    expect(buildLockedPut(table, { pk: 'a' }, undefined, 't1')).toMatchObject({
      Item: { pk: 'a', version: 1, ...register('t1') },
      ConditionExpression: 'attribute_not_exists(#n0)',
    });
    const next = buildLockedPut(table, { pk: 'a' }, { pk: 'a', version: 4, ...register('t1') }, 't2');
    expect(next).toMatchObject({
      Item: { version: 5, _rsToken0: 't2', _rsToken1: 't1' },
      ConditionExpression: '#n0 = :v0',
      ExpressionAttributeValues: { ':v0': 4 },
    });
    const full = Object.fromEntries(Array.from({ length: 16 }, (_, slot) => [`_rsToken${slot}`, `old${slot}`]));
    const kept = buildLockedPut(table, { pk: 'a' }, { pk: 'a', version: 1, ...full }, 'new').Item;
    expect(Object.keys(kept ?? {}).filter((name) => name.startsWith('_rsToken'))).toHaveLength(16);
    expect(kept?._rsToken15).toBe('old14');
  });
});

describe('write tokens', () => {
  it('are 16 base64url characters and do not repeat', () => {
    const tokens = Array.from({ length: 2000 }, () => newWriteToken());
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
