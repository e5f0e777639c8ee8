import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { increment } from '../expression/update.js';
import { actionWriteToken } from '../request/write-token.js';
import { defineTable } from '../table.js';
import { transaction } from './builder.js';

const sent: unknown[] = [];
const client = {
  send: async (command: { input: unknown }) => {
    sent.push(command.input);
    return {};
  },
} as unknown as DynamoDBDocumentClient;
const table = defineTable({ client, name: 'accounts', partitionKey: 'pk' });

describe('transaction rules, checked before sending', () => {
  it('needs at least one action and allows at most 100', async () => {
    await expect(transaction().commit()).rejects.toMatchObject({
      code: 'validation.invalidInput',
      details: { field: 'actions' },
    });
    const tx = transaction();
    for (let i = 0; i < 101; i++) tx.put(table, { pk: `k${i}` });
    await expect(tx.commit()).rejects.toMatchObject({
      details: { field: 'actions', rule: expect.stringMatching(/at most 100/) },
    });
    expect(sent).toEqual([]);
  });

  it('allows one action per item', () => {
    const tx = transaction()
      .put(table, { pk: 'a' })
      .update(table, { pk: 'a' }, { changes: { n: increment(1) } });
    expect(() => tx.build('t')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'actions[1]' }) }),
    );
  });

  it('carries at most 4 MB in all', () => {
    const tx = transaction();
    for (let i = 0; i < 12; i++) tx.put(table, { pk: `k${i}`, blob: 'x'.repeat(390 * 1024) });
    expect(() => tx.build('t')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ rule: expect.stringMatching(/4 MB/) }) }),
    );
  });

  it('validates the token and every action as it is added', () => {
    expect(() => transaction().put(table, { pk: 'a' }).build('x'.repeat(37))).toThrow(/1 to 36/);
    expect(() => transaction().put(table, { nope: 1 })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'actions[0].item.pk' }) }),
    );
    expect(() => transaction().check(table, { pk: 'a' }, {})).toThrow(/at least one rule/);
  });

  it('builds placeholders for every name and value, with ALL_OLD on condition failure', () => {
    const input = transaction()
      .update(table, { pk: 'a' }, { changes: { status: 'x' }, require: { 'odd.name': { gte: 1 } } })
      .build('tok');
    expect(input).toEqual({
      ClientRequestToken: 'tok',
      TransactItems: [
        {
          Update: {
            TableName: 'accounts',
            Key: { pk: 'a' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ConditionExpression: '#n0 >= :v0',
            // The action's write token (derived from the request's token), as every racesafe write stores one.
            UpdateExpression: 'SET #n1 = :v1, #n2 = :v2',
            ExpressionAttributeNames: { '#n0': 'odd.name', '#n1': 'status', '#n2': '_rsToken0' },
            ExpressionAttributeValues: { ':v0': 1, ':v1': 'x', ':v2': actionWriteToken('tok', 0) },
          },
        },
      ],
    });
  });

  it('stores a write token per put and update, the same on a resend, another for another commit', () => {
    const built = (token: string) =>
      transaction()
        .put(table, { pk: 'a', n: 1 })
        .update(table, { pk: 'b' }, { changes: { n: 2 } })
        .delete(table, { pk: 'c' })
        .build(token);
    const first = built('t1');
    const put = first.TransactItems?.[0]?.Put?.Item as Record<string, unknown>;
    expect(put).toEqual({ pk: 'a', n: 1, _rsToken0: actionWriteToken('t1', 0) });
    expect(put._rsToken0).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(first.TransactItems?.[1]?.Update?.ExpressionAttributeValues).toMatchObject({
      ':v1': actionWriteToken('t1', 1),
    });
    expect(first.TransactItems?.[2]?.Delete).not.toHaveProperty('ExpressionAttributeValues');
    expect(built('t1')).toEqual(first);
    expect(actionWriteToken('t2', 0)).not.toBe(put._rsToken0);
    expect(actionWriteToken('t1', 1)).not.toBe(put._rsToken0);
  });
});
