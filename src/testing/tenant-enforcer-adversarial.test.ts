/** @module Adversarial review of enforceLeadingKeys: it must ask IAM the question AWS asks, or a local run can deny what AWS allows. */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { type AccessRequest, accessRequests } from './tenant-enforcer.js';

// @cloud-copilot/iam-simulate (AGPL-3.0) is a dev dependency: tests only, never imported by published code.

const account = '123456789012';
const tables = { orders: { partitionKey: 'pk' } };
const arn = (name: string) => `arn:aws:dynamodb:eu-west-1:${account}:table/${name}`;
const ask = (command: string, input: Record<string, unknown>) => accessRequests(command, input, tables, arn);

/** AWS's decision on one of the enforcer's questions, for a hand-written (too broad) user policy. */
async function decide(policy: object, request: AccessRequest) {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'user', policy: structuredClone(policy) as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: request.action,
        principal: `arn:aws:sts::${account}:assumed-role/tenant-access/tenant-blue`,
        resource: { accountId: account, resource: request.resource },
        contextVariables: {},
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe('the questions of PartiQL and index requests are the ones AWS asks', () => {
  it('each PartiQL statement is authorised as PartiQLSelect/Insert/Update/Delete on its table or index', () => {
    const one = (Statement: string) => ask('ExecuteStatementCommand', { Statement });
    expect(one(`SELECT * FROM "orders" WHERE pk = 'TENANT#green#1'`)).toEqual([
      { action: 'dynamodb:PartiQLSelect', resource: arn('orders'), leadingKeys: undefined },
    ]);
    expect(one(`select secret from orders where pk = 'x'`)[0]).toMatchObject({
      action: 'dynamodb:PartiQLSelect',
      resource: arn('orders'),
    });
    expect(one(`SELECT * FROM "orders"."byCustomer" WHERE customer = 'c'`)[0]?.resource).toBe(
      `${arn('orders')}/index/byCustomer`,
    );
    expect(one(`INSERT INTO "orders" VALUE {'pk': 'TENANT#green#1'}`)[0]?.action).toBe('dynamodb:PartiQLInsert');
    expect(one(`  UPDATE "orders" SET secret = 'x' WHERE pk = 'TENANT#green#1'`)[0]).toMatchObject({
      action: 'dynamodb:PartiQLUpdate',
      resource: arn('orders'),
    });
    expect(one(`DELETE FROM "orders" WHERE pk = 'TENANT#green#1'`)[0]?.action).toBe('dynamodb:PartiQLDelete');
    expect(
      ask('BatchExecuteStatementCommand', {
        Statements: [
          { Statement: `SELECT * FROM "orders" WHERE pk = 'a'` },
          { Statement: `DELETE FROM orders WHERE pk = 'b'` },
        ],
      }).map((q) => q.action),
    ).toEqual(['dynamodb:PartiQLSelect', 'dynamodb:PartiQLDelete']);
    expect(
      ask('ExecuteTransactionCommand', {
        TransactStatements: [{ Statement: `UPDATE "orders" SET n = 1 WHERE pk = 'a'` }],
      }).map((q) => q.action),
    ).toEqual(['dynamodb:PartiQLUpdate']);
  });

  it('a Scan of an index is asked on the index', () => {
    expect(ask('ScanCommand', { TableName: 'orders', IndexName: 'byCustomer' })[0]?.resource).toBe(
      `${arn('orders')}/index/byCustomer`,
    );
  });

  it('a user policy that allows PartiQL reads is seen allowing them, as AWS would (no false sense of safety)', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['dynamodb:PartiQLSelect', 'dynamodb:Scan'], Resource: `${arn('orders')}*` },
      ],
    };
    const [select] = ask('ExecuteStatementCommand', { Statement: `SELECT * FROM "orders"` });
    const [scan] = ask('ScanCommand', { TableName: 'orders', IndexName: 'byCustomer' });
    expect(await decide(policy, select as AccessRequest)).toBe('Allowed');
    expect(await decide(policy, scan as AccessRequest)).toBe('Allowed');
  });
});
