import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { type PolicyDocument, tenantItemActions, tenantPolicies, tenantSessionPolicy } from './policy.js';

// @cloud-copilot/iam-simulate (AGPL-3.0) is a dev dependency: tests only, never imported by published code.

const account = '123456789012';
const table = `arn:aws:dynamodb:eu-west-1:${account}:table/orders`;
const tenantRoleArn = `arn:aws:iam::${account}:role/orders-tenant-access`;
const executionRoleArn = `arn:aws:iam::${account}:role/orders-api`;

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** AWS's evaluation of one request by an identity policy (the evaluator's, not ours). */
async function evaluate(
  policy: PolicyDocument,
  action: string,
  context: Record<string, string | string[]>,
  resource = table,
): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'under-test', policy: structuredClone(policy) as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: `arn:aws:sts::${account}:assumed-role/orders-tenant-access/tenant-blue`,
        resource: { accountId: account, resource },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`the evaluator refused: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

/** Leading keys as DynamoDB computes them: the stored (prefixed) partition key values. */
const keys = (...values: string[]) => ({ 'dynamodb:LeadingKeys': values });

const tagged = tenantPolicies({ tableArns: [table], tenantRoleArn, executionRoleArn });
const sessionMode = tenantPolicies({ tableArns: [table], tenantRoleArn, executionRoleArn, mode: 'sessionPolicy' });
const blueSession = tenantSessionPolicy('blue', { tableArns: [table] });

/**
 * The two ways a session is confined, each decided by the evaluator:
 * - session tags: the role's policy with `aws:PrincipalTag/tenant`, which the evaluator models;
 * - session policy: the evaluator does not model session policies yet, so the role's policy and the session policy
 *   are evaluated as two policies and the session may act only when both allow (AWS's rule for session policies:
 *   the effective permissions are the intersection).
 */
type Session = (action: string, context: Record<string, string | string[]>, resource?: string) => Promise<Decision>;
const sessions: Record<string, Session> = {
  'session tags': (action, context, resource) =>
    evaluate(tagged.tenantRolePermissions, action, { 'aws:PrincipalTag/tenant': 'blue', ...context }, resource),
  'session policy': async (action, context, resource) => {
    const [role, session] = await Promise.all([
      evaluate(sessionMode.tenantRolePermissions, action, context, resource),
      evaluate(blueSession, action, context, resource),
    ]);
    return role === 'Allowed' && session === 'Allowed' ? 'Allowed' : role === 'Allowed' ? session : role;
  },
};

describe.each(Object.keys(sessions))('tenant blue through %s, evaluated by @cloud-copilot/iam-simulate', (mode) => {
  const decide = sessions[mode] as Session;

  it.each([...tenantItemActions])(
    '%s: own keys allowed; another tenant, the prefix trick and no leading keys denied',
    async (action) => {
      expect(await decide(action, keys('TENANT#blue#order-1'))).toBe('Allowed');
      expect(await decide(action, keys('TENANT#blue#order-1', 'TENANT#blue#order-2'))).toBe('Allowed');
      expect(await decide(action, keys('TENANT#green#order-1'))).not.toBe('Allowed');
      // TENANT#blue must not reach TENANT#blue2: the separator after the id closes the prefix.
      expect(await decide(action, keys('TENANT#blue2#order-1'))).not.toBe('Allowed');
      expect(await decide(action, keys('TENANT#blue'))).not.toBe('Allowed');
      // One foreign key among own keys (a BatchGet, a transaction) denies the whole request.
      expect(await decide(action, keys('TENANT#blue#order-1', 'TENANT#green#order-1'))).not.toBe('Allowed');
      // ForAllValues over an absent key is vacuously true: the Null condition and the explicit deny close that.
      expect(await decide(action, {})).toBe('ExplicitlyDenied');
    },
  );

  it('Scan, PartiQL and table management are denied explicitly; index queries are not allowed', async () => {
    for (const action of [
      'dynamodb:Scan',
      'dynamodb:PartiQLSelect',
      'dynamodb:DeleteTable',
      'dynamodb:DescribeTable',
    ]) {
      expect(await decide(action, {}), action).toBe('ExplicitlyDenied');
    }
    expect(await decide('dynamodb:Query', keys('TENANT#blue#order-1')), 'table query').toBe('Allowed');
    // A secondary index's partition key is not the table's: the scope refuses index queries, and so does IAM.
    expect(await decide('dynamodb:Query', keys('TENANT#blue#order-1'), `${table}/index/byCustomer`)).not.toBe(
      'Allowed',
    );
  });
});

describe('the naive policy the generator replaces', () => {
  it('ForAllValues:StringLike alone allows a request without leading keys (the vacuous-truth hole)', async () => {
    const naive: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem'],
          Resource: [table],
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#blue#*'] } },
        },
      ],
    };
    expect(await evaluate(naive, 'dynamodb:GetItem', {})).toBe('Allowed');
    expect(await evaluate(naive, 'dynamodb:GetItem', keys('TENANT#green#x'))).toBe('ImplicitlyDenied');
  });

  it('a prefix without the closing separator lets blue reach blue2', async () => {
    const naive = tenantSessionPolicy('blue', { tableArns: [table] });
    const open = JSON.parse(JSON.stringify(naive).replaceAll('TENANT#blue#*', 'TENANT#blue*')) as PolicyDocument;
    expect(await evaluate(open, 'dynamodb:GetItem', keys('TENANT#blue2#x'))).toBe('Allowed');
    expect(await evaluate(naive, 'dynamodb:GetItem', keys('TENANT#blue2#x'))).not.toBe('Allowed');
  });
});

describe('trust: who may start a tenant session', () => {
  async function assume(action: string, principal: string, context: Record<string, string | string[]>) {
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'execution-role', policy: structuredClone(tagged.executionRolePolicy) as never }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: structuredClone(tagged.tenantRoleTrust) as never,
        request: {
          action,
          principal,
          resource: { accountId: account, resource: tenantRoleArn },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`the evaluator refused: ${JSON.stringify(result.errors)}`);
    return result.overallResult as Decision;
  }

  it('the execution role may assume and tag the tenant role with the tenant tag only', async () => {
    const tag = { 'aws:RequestTag/tenant': 'blue', 'aws:TagKeys': ['tenant'] };
    expect(await assume('sts:AssumeRole', executionRoleArn, tag)).toBe('Allowed');
    expect(await assume('sts:TagSession', executionRoleArn, tag)).toBe('Allowed');
    expect(await assume('sts:TagSession', executionRoleArn, {})).not.toBe('Allowed');
    expect(await assume('sts:TagSession', executionRoleArn, { ...tag, 'aws:TagKeys': ['tenant', 'admin'] })).not.toBe(
      'Allowed',
    );
    expect(await assume('sts:AssumeRole', `arn:aws:iam::${account}:role/someone-else`, tag)).not.toBe('Allowed');
  });
});

describe('tenantPolicies options', () => {
  it('names the field and the rule of a bad option', () => {
    const bad = (options: object) => {
      try {
        tenantPolicies({ tableArns: [table], tenantRoleArn, executionRoleArn, ...options });
      } catch (error) {
        return error instanceof RacesafeError && error.is('validation.invalidOption') ? error.details.field : 'other';
      }
      return 'none';
    };
    expect(bad({ tableArns: [] })).toBe('tableArns');
    expect(bad({ tableArns: ['orders'] })).toBe('tableArns[0]');
    expect(bad({ tenantRoleArn: 'role' })).toBe('tenantRoleArn');
    expect(bad({ mode: 'tags' })).toBe('mode');
    expect(bad({ keys: { separator: '*' } })).toBe('keys.separator');
    expect(bad({ extra: 1 })).toBe('tenantPolicies.extra');
    expect(() => tenantSessionPolicy('a#b', { tableArns: [table] })).toThrow(/tenantId/);
  });

  it('passes unresolved CDK tokens through in place of ARNs (resolved at deploy time)', () => {
    const token = ['$', '{Token[TOKEN.123]}'].join('');
    const roleToken = `arn:${['$', '{Token[AWS.Partition.1]}'].join('')}:iam::${['$', '{Token[AWS.AccountId.2]}'].join('')}:role/x`;
    const policies = tenantPolicies({ tableArns: [token], tenantRoleArn: roleToken, executionRoleArn: token });
    expect(policies.tenantRolePermissions.Statement[0]?.Resource).toEqual([token]);
    expect(policies.executionRoleStatement.Resource).toBe(roleToken);
  });

  it('is plain JSON: it survives a round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(tagged))).toEqual(tagged);
    expect(JSON.stringify(tagged.tenantRolePermissions)).toContain(
      ['TENANT#$', '{aws:PrincipalTag/tenant}#*'].join(''),
    );
  });
});
