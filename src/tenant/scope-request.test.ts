import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { type RequestScope, scopeRequest, unscopeError, unscopeResponse } from './scope-request.js';
import { tenantKeyCodec } from './tenant-id.js';

const scope: RequestScope = {
  codec: tenantKeyCodec('blue'),
  tables: new Map([
    ['orders', { partitionKey: 'pk', sortKey: 'sk' }],
    ['ledger', { partitionKey: 'id', sortKey: undefined }],
  ]),
};

function refusedField(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof RacesafeError && error.is('tenant.crossTenant')) return error.details.field;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('scopeRequest (pure)', () => {
  it('prefixes the partition key only, in every place a request carries keys', () => {
    expect(scopeRequest('Get', { TableName: 'orders', Key: { pk: 'a', sk: 'x' } }, scope)).toEqual({
      TableName: 'orders',
      Key: { pk: 'TENANT#blue#a', sk: 'x' },
    });
    const batch = scopeRequest(
      'BatchWrite',
      {
        RequestItems: {
          orders: [{ PutRequest: { Item: { pk: 'a', sk: 'x', n: 1 } } }],
          ledger: [{ DeleteRequest: { Key: { id: 'e-1' } } }],
        },
      },
      scope,
    );
    expect(batch.RequestItems).toEqual({
      orders: [{ PutRequest: { Item: { pk: 'TENANT#blue#a', sk: 'x', n: 1 } } }],
      ledger: [{ DeleteRequest: { Key: { id: 'TENANT#blue#e-1' } } }],
    });
    const transactGet = scopeRequest(
      'TransactGet',
      { TransactItems: [{ Get: { TableName: 'ledger', Key: { id: 'e' } } }] },
      scope,
    );
    expect(transactGet.TransactItems).toEqual([{ Get: { TableName: 'ledger', Key: { id: 'TENANT#blue#e' } } }]);
  });

  it('a Query: the key condition value is prefixed; it may serve no other comparison', () => {
    const query = {
      TableName: 'orders',
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': 'c-1', ':s': 'order#' },
    };
    expect(scopeRequest('Query', query, scope).ExpressionAttributeValues).toEqual({
      ':p': 'TENANT#blue#c-1',
      ':s': 'order#',
    });
    expect(refusedField(() => scopeRequest('Query', { ...query, FilterExpression: 'owner = :p' }, scope))).toBe(
      'ExpressionAttributeValues',
    );
    expect(refusedField(() => scopeRequest('Query', { ...query, KeyConditionExpression: 'sk = :s' }, scope))).toBe(
      'KeyConditionExpression',
    );
  });

  it('refuses legacy parameters, a condition on the key value, other tables and malformed transactions', () => {
    expect(
      refusedField(() =>
        scopeRequest('Get', { TableName: 'orders', Key: { pk: 'a', sk: 'x' }, AttributesToGet: ['n'] }, scope),
      ),
    ).toBe('AttributesToGet');
    const put = { TableName: 'orders', Item: { pk: 'a', sk: 'x' } };
    expect(
      scopeRequest(
        'Put',
        { ...put, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'pk' } },
        scope,
      ),
    ).toBeTruthy();
    expect(
      refusedField(() =>
        scopeRequest(
          'Put',
          { ...put, ConditionExpression: '#k <> :v', ExpressionAttributeNames: { '#k': 'pk' } },
          scope,
        ),
      ),
    ).toBe('ConditionExpression');
    expect(refusedField(() => scopeRequest('Get', { TableName: 'other', Key: { pk: 'a' } }, scope))).toBe('TableName');
    expect(
      refusedField(() => scopeRequest('TransactWrite', { TransactItems: [{ Put: put, Delete: put }] }, scope)),
    ).toBe('TransactItems[0]');
  });
});

describe('unscopeResponse and unscopeError (pure)', () => {
  it('strips the prefix from items, pages and unprocessed keys; refuses an item of another tenant', () => {
    const input = { TableName: 'orders' };
    const page = unscopeResponse(
      'Query',
      { Items: [{ pk: 'TENANT#blue#c', sk: '1' }], LastEvaluatedKey: { pk: 'TENANT#blue#c', sk: '1' } },
      scope,
      input,
    );
    expect(page).toEqual({ Items: [{ pk: 'c', sk: '1' }], LastEvaluatedKey: { pk: 'c', sk: '1' } });
    const batch = unscopeResponse(
      'BatchGet',
      {
        Responses: { ledger: [{ id: 'TENANT#blue#e' }] },
        UnprocessedKeys: { ledger: { Keys: [{ id: 'TENANT#blue#f' }] } },
      },
      scope,
      {},
    );
    expect(batch).toEqual({
      Responses: { ledger: [{ id: 'e' }] },
      UnprocessedKeys: { ledger: { Keys: [{ id: 'f' }] } },
    });
    expect(refusedField(() => unscopeResponse('Get', { Item: { pk: 'TENANT#green#c' } }, scope, input))).toBe(
      'Item.pk',
    );
  });

  it("a failed condition's wire-format items lose the prefix; another tenant's item is dropped, never shown", () => {
    const failure = { name: 'ConditionalCheckFailedException', Item: { pk: { S: 'TENANT#blue#a' }, n: { N: '1' } } };
    unscopeError(failure, 'Put', { TableName: 'orders' }, scope);
    expect(failure.Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    const cancelled = {
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Item: { id: { S: 'TENANT#green#x' } } },
      ],
    };
    const input = { TransactItems: [{ Put: { TableName: 'orders' } }, { ConditionCheck: { TableName: 'ledger' } }] };
    unscopeError(cancelled, 'TransactWrite', input, scope);
    expect(cancelled.CancellationReasons[1]?.Item).toBeUndefined();
  });
});
