import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { guardParts } from '../expression/guard.js';
import { decrement } from '../expression/update.js';
import { newWriteToken } from '../request/write-token.js';
import { defineTable } from '../table.js';
import { buildDeleteIfNotNewer } from './delete-if-not-newer.js';
import { buildGuardedUpdate } from './guarded-update.js';
import { buildPutIfNewer } from './put-if-newer.js';
import { buildUpdateIfNewer } from './update-if-newer.js';
import { buildLockedPut } from './update-with-lock.js';

const client = { send: async () => ({}) } as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'state', partitionKey: 'pk' });

describe('request building (pure)', () => {
  it('putIfNewer: one PutItem with the version condition, its write token (old bookkeeping dropped) and ALL_OLD', () => {
    expect(buildPutIfNewer(table, { pk: 'a', version: 42, _rsDeleted: true, _rsToken3: 'old' }, 'tok')).toEqual({
      TableName: 'state',
      Item: { pk: 'a', version: 42, _rsToken: 'tok' },
      ConditionExpression: '(attribute_not_exists(#rsKey)) OR (#rsVersion < :rsVersion)',
      ExpressionAttributeNames: { '#rsKey': 'pk', '#rsVersion': 'version' },
      ExpressionAttributeValues: { ':rsVersion': 42 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('updateIfNewer: sets the changes, the version and the write token, removes a tombstone mark', () => {
    const input = buildUpdateIfNewer(table, { pk: 'a' }, 3, { status: 'x' }, 'tok');
    expect(input.UpdateExpression).toBe('SET #n0 = :v0, #n1 = :v1, #n2 = :v2 REMOVE #n3');
    expect(input.ExpressionAttributeNames).toMatchObject({
      '#n0': 'status',
      '#n1': 'version',
      '#n2': '_rsToken',
      '#n3': '_rsDeleted',
    });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':v0': 'x', ':v1': 3, ':v2': 'tok' });
    expect(input.ConditionExpression).toBe('(attribute_not_exists(#rsKey)) OR (#rsVersion < :rsVersion)');
    expect(input.ExpressionAttributeNames).toMatchObject({ '#rsKey': 'pk', '#rsVersion': 'version' });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':rsVersion': 3 });
    expect(input.ReturnValues).toBe('ALL_NEW');
  });

  it('guardedUpdate: a one-action transaction under the token, existence, no tombstone and the guard, ALL_OLD', () => {
    const input = buildGuardedUpdate(
      table,
      { pk: 'a' },
      { q: decrement(1) },
      guardParts({ q: { gte: 1 } }, 'require'),
      'tok',
    );
    expect(input).toEqual({
      ClientRequestToken: 'tok',
      TransactItems: [
        {
          Update: {
            TableName: 'state',
            Key: { pk: 'a' },
            // The transaction's token is stored as the change token, so that an updateWithLock that read the item
            // before conflicts; the write token (a versioned write's proof of its own attempt) stays.
            UpdateExpression: 'SET #n0 = if_not_exists(#n0, :v0) + :v1, #n1 = :v2',
            ConditionExpression: '(attribute_exists(#rsKey) AND attribute_not_exists(#rsTomb)) AND (#n0 >= :v3)',
            ExpressionAttributeNames: { '#n0': 'q', '#n1': '_rsToken0', '#rsKey': 'pk', '#rsTomb': '_rsDeleted' },
            ExpressionAttributeValues: { ':v0': 0, ':v1': -1, ':v2': 'tok', ':v3': 1 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    });
  });

  it('deleteIfNotNewer: a tombstone put (with its write token) by default, a conditional delete on request', () => {
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

  it('updateWithLock: a one-action transaction per attempt: create-only, then version and token as read, version + 1', () => {
    expect(buildLockedPut(table, { pk: 'a' }, undefined, 't1')).toEqual({
      ClientRequestToken: 't1',
      TransactItems: [
        {
          Put: {
            TableName: 'state',
            Item: { pk: 'a', version: 1, _rsToken0: 't1' },
            ConditionExpression: 'attribute_not_exists(#n0)',
            ExpressionAttributeNames: { '#n0': 'pk' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    });
    // The read item had no token (written by another tool, or before this fix): the put requires that still.
    const next = buildLockedPut(table, { pk: 'a' }, { pk: 'a', version: 4 }, 't2');
    expect(next.ClientRequestToken).toBe('t2');
    expect(next.TransactItems?.[0]?.Put).toMatchObject({
      Item: { pk: 'a', version: 5, _rsToken0: 't2' },
      ConditionExpression: '(#n0 = :v0) AND (attribute_not_exists(#n1)) AND (attribute_not_exists(#n2))',
      ExpressionAttributeNames: { '#n0': 'version', '#n1': '_rsToken', '#n2': '_rsToken0' },
      ExpressionAttributeValues: { ':v0': 4 },
    });
    // A guardedUpdate (which leaves the version alone) since the read changes the change token: the put conflicts.
    const read = { pk: 'a', version: 5, _rsToken: 'w1', _rsToken0: 't2' };
    const afterGuarded = buildLockedPut(table, { pk: 'a' }, read, 't3');
    expect(afterGuarded.TransactItems?.[0]?.Put).toMatchObject({
      Item: { pk: 'a', version: 6, _rsToken0: 't3' },
      ConditionExpression: '(#n0 = :v0) AND (#n1 = :v1) AND (#n2 = :v2)',
      ExpressionAttributeValues: { ':v0': 5, ':v1': 'w1', ':v2': 't2' },
    });
    // An item without a version (written by another tool) keeps the existence form.
    const unversioned = buildLockedPut(table, { pk: 'a' }, { pk: 'a', _rsToken: 'x' }, 't4');
    expect(unversioned.TransactItems?.[0]?.Put?.ConditionExpression).toBe(
      '((attribute_exists(#n0)) AND (attribute_not_exists(#n1))) AND (#n2 = :v0) AND (attribute_not_exists(#n3))',
    );
  });
});

describe('write tokens', () => {
  it('are 16 base64url characters and do not repeat', () => {
    const tokens = Array.from({ length: 2000 }, () => newWriteToken());
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
