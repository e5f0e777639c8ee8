import { describe, expect, it } from 'vitest';
import { describeRequest, operationName } from './faults-stack.js';

describe('operationName', () => {
  it('drops the Command suffix', () => {
    expect(operationName('PutItemCommand')).toBe('PutItem');
    expect(operationName('PutItem')).toBe('PutItem');
    expect(operationName(undefined)).toBe('Unknown');
  });
});

describe('describeRequest', () => {
  it('reads the table and the plain key of a single-item operation', () => {
    const input = { TableName: 'orders', Key: { pk: { S: 'o1' }, sk: { N: '2' } } };
    expect(describeRequest('UpdateItemCommand', input, [])).toEqual({
      operation: 'UpdateItem',
      tables: ['orders'],
      key: { pk: 'o1', sk: 2 },
      input,
    });
  });

  it("reads a PutItem's key from the item's key attributes", () => {
    const input = { TableName: 'orders', Item: { pk: { S: 'o1' }, total: { N: '9' } } };
    expect(describeRequest('PutItemCommand', input, ['pk', 'sk']).key).toEqual({ pk: 'o1' });
    expect(describeRequest('PutItemCommand', input, ['id']).key).toBeUndefined();
  });

  it('lists every table of a transaction or a batch, without a key', () => {
    const transaction = {
      TransactItems: [
        { Update: { TableName: 'accounts', Key: { pk: { S: 'a' } } } },
        { ConditionCheck: { TableName: 'limits', Key: { pk: { S: 'a' } } } },
        { Put: { TableName: 'accounts', Item: { pk: { S: 'b' } } } },
      ],
    };
    expect(describeRequest('TransactWriteItemsCommand', transaction, ['pk'])).toEqual({
      operation: 'TransactWriteItems',
      tables: ['accounts', 'limits'],
      key: undefined,
      input: transaction,
    });
    const batch = { RequestItems: { a: [], b: [] } };
    expect(describeRequest('BatchWriteItemCommand', batch, ['pk']).tables).toEqual(['a', 'b']);
  });

  it("has no key for another service's input", () => {
    const input = { StreamName: 's', PartitionKey: 'p' };
    expect(describeRequest('PutRecordCommand', input, ['pk'])).toEqual({
      operation: 'PutRecord',
      tables: [],
      key: undefined,
      input,
    });
  });
});
