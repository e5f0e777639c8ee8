import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { accessRequests } from './tenant-enforcer.js';

const tables = { orders: { partitionKey: 'pk' } };
const arn = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`;
const ask = (command: string, input: Record<string, unknown>) => accessRequests(command, input, tables, arn);

describe('the dynamodb:LeadingKeys of a request', () => {
  it('single-item actions: the partition key of Key or Item', () => {
    expect(ask('GetItemCommand', { TableName: 'orders', Key: marshall({ pk: 'TENANT#a#1' }) })).toEqual([
      { action: 'dynamodb:GetItem', resource: arn('orders'), leadingKeys: ['TENANT#a#1'] },
    ]);
    expect(
      ask('PutItemCommand', { TableName: 'orders', Item: marshall({ pk: 'TENANT#a#1', n: 1 }) })[0]?.leadingKeys,
    ).toEqual(['TENANT#a#1']);
  });

  it('a transaction asks once per action, with the item action IAM authorises', () => {
    const questions = ask('TransactWriteItemsCommand', {
      TransactItems: [
        { Put: { TableName: 'orders', Item: marshall({ pk: 'TENANT#a#1' }) } },
        { ConditionCheck: { TableName: 'orders', Key: marshall({ pk: 'TENANT#b#1' }) } },
      ],
    });
    expect(questions.map((q) => [q.action, q.leadingKeys])).toEqual([
      ['dynamodb:PutItem', ['TENANT#a#1']],
      ['dynamodb:ConditionCheckItem', ['TENANT#b#1']],
    ]);
  });

  it('a batch asks once per table with all its keys; a query with the value its key condition compares', () => {
    const batch = ask('BatchGetItemCommand', {
      RequestItems: { orders: { Keys: [marshall({ pk: 'TENANT#a#1' }), marshall({ pk: 'TENANT#b#2' })] } },
    });
    expect(batch[0]?.leadingKeys).toEqual(['TENANT#a#1', 'TENANT#b#2']);
    const query = ask('QueryCommand', {
      TableName: 'orders',
      IndexName: 'byDate',
      KeyConditionExpression: '#p = :v AND sk > :s',
      ExpressionAttributeNames: { '#p': 'pk' },
      ExpressionAttributeValues: marshall({ ':v': 'TENANT#a#c', ':s': 'x' }),
    });
    expect(query).toEqual([
      { action: 'dynamodb:Query', resource: `${arn('orders')}/index/byDate`, leadingKeys: ['TENANT#a#c'] },
    ]);
  });

  it('no leading keys: a Scan, an unknown table, a key without the partition key', () => {
    expect(ask('ScanCommand', { TableName: 'orders' })[0]?.leadingKeys).toBeUndefined();
    expect(ask('GetItemCommand', { TableName: 'other', Key: marshall({ pk: 'x' }) })[0]?.leadingKeys).toBeUndefined();
    expect(ask('GetItemCommand', { TableName: 'orders', Key: marshall({ id: 'x' }) })[0]?.leadingKeys).toBeUndefined();
  });
});
