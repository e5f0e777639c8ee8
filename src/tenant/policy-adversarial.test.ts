/** @module Adversarial review of the generated tenant policies: each attack decided by @cloud-copilot/iam-simulate, never by us. */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { buildAssumeRoleParams } from './credentials.js';
import { type PolicyDocument, tenantItemActions, tenantPolicies, tenantSessionPolicy } from './policy.js';

// @cloud-copilot/iam-simulate (AGPL-3.0) is a dev dependency: tests only, never imported by published code.

const account = '123456789012';
const table = `arn:aws:dynamodb:eu-west-1:${account}:table/orders`;
const tenantRoleArn = `arn:aws:iam::${account}:role/orders-tenant-access`;
const executionRoleArn = `arn:aws:iam::${account}:role/orders-api`;

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
type Context = Record<string, string | string[]>;

/** AWS's evaluation of one request against the identity policies attached to the session's role. */
async function evaluate(
  policies: readonly PolicyDocument[],
  action: string,
  context: Context,
  resource = table,
): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: policies.map((policy, index) => ({
        name: `policy-${index}`,
        policy: structuredClone(policy) as never,
      })),
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

const keys = (...values: string[]) => ({ 'dynamodb:LeadingKeys': values });
const tagged = tenantPolicies({ tableArns: [table], tenantRoleArn, executionRoleArn });
const sessionMode = tenantPolicies({ tableArns: [table], tenantRoleArn, executionRoleArn, mode: 'sessionPolicy' });

/**
 * A broad grant someone else attached to the tenant role (the shape of AWS's managed DynamoDB policies): the
 * generated policy must keep tenants apart by its explicit denies, not only by what it leaves unallowed.
 */
const broadGrant: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }],
};

type Session = (action: string, context: Context, resource?: string) => Promise<Decision>;

/** Tenant blue's session in each mode, with `extra` identity policies on the role beside the generated one. */
function blueSessions(extra: readonly PolicyDocument[]): Record<string, Session> {
  return {
    'session tags': (action, context, resource) =>
      evaluate(
        [tagged.tenantRolePermissions, ...extra],
        action,
        { 'aws:PrincipalTag/tenant': 'blue', ...context },
        resource,
      ),
    // Session policies are not modelled by the evaluator: the session may act only when both the role's policies
    // and the session policy allow (AWS's rule: the effective permissions are the intersection).
    'session policy': async (action, context, resource) => {
      const [role, session] = await Promise.all([
        evaluate([sessionMode.tenantRolePermissions, ...extra], action, context, resource),
        evaluate([tenantSessionPolicy('blue', { tableArns: [table] })], action, context, resource),
      ]);
      return role === 'Allowed' && session === 'Allowed' ? 'Allowed' : role === 'Allowed' ? session : role;
    },
  };
}

const streamArn = `${table}/stream/2026-12-02T05:00:00.000`;

describe.each([
  ['alone', [] as PolicyDocument[]],
  ['beside a broad dynamodb:* grant', [broadGrant]],
])('the generated tenant-role policy %s, evaluated by @cloud-copilot/iam-simulate', (_, extra) => {
  describe.each(Object.entries(blueSessions(extra)))('tenant blue through %s', (_mode, decide) => {
    it.each([...tenantItemActions])(
      "%s: green's keys, a prefix trick and a lookalike id are denied",
      async (action) => {
        expect(await decide(action, keys('TENANT#blue#order-1'))).toBe('Allowed');
        for (const foreign of ['TENANT#green#order-1', 'TENANT#blue2#order-1', 'TENANT#blue', 'tenant#blue#order-1']) {
          expect(await decide(action, keys(foreign)), foreign).not.toBe('Allowed');
          expect(await decide(action, keys('TENANT#blue#order-1', foreign)), `own + ${foreign}`).not.toBe('Allowed');
        }
        expect(await decide(action, {}), 'no leading keys').toBe('ExplicitlyDenied');
      },
    );

    it('an empty set of leading keys is no way in (ForAllValues over an empty set is vacuously true)', async () => {
      for (const action of tenantItemActions) {
        expect(await decide(action, keys()), action).not.toBe('Allowed');
      }
    });

    it("a secondary index, the table's stream, its exports and backups give nothing, whatever the leading keys", async () => {
      const index = `${table}/index/byCustomer`;
      expect(await decide('dynamodb:Query', keys('customer-7'), index)).not.toBe('Allowed');
      expect(await decide('dynamodb:Query', keys('TENANT#green#order-1'), index)).not.toBe('Allowed');
      expect(await decide('dynamodb:Scan', {}, index)).not.toBe('Allowed');
      for (const action of ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream']) {
        expect(await decide(action, {}, streamArn), action).not.toBe('Allowed');
      }
      expect(await decide('dynamodb:ExportTableToPointInTime', {})).not.toBe('Allowed');
      expect(await decide('dynamodb:DescribeExport', {}, `${table}/export/01234567890123-abcdef12`)).not.toBe(
        'Allowed',
      );
      expect(await decide('dynamodb:RestoreTableFromBackup', {}, `${table}/backup/01234567890123-abcdef12`)).not.toBe(
        'Allowed',
      );
    });

    it('Scan and every PartiQL action are denied, with or without leading keys', async () => {
      for (const action of [
        'dynamodb:Scan',
        'dynamodb:PartiQLSelect',
        'dynamodb:PartiQLInsert',
        'dynamodb:PartiQLUpdate',
        'dynamodb:PartiQLDelete',
      ]) {
        expect(await decide(action, {}), action).not.toBe('Allowed');
        expect(await decide(action, keys('TENANT#blue#order-1')), `${action} on own keys`).not.toBe('Allowed');
        expect(await decide(action, keys('TENANT#green#order-1')), `${action} on green`).not.toBe('Allowed');
      }
    });
  });
});

describe('what the generated policy alone grants outside its tables', () => {
  const decide = blueSessions([])['session tags'] as Session;

  it('a table whose name extends the listed one (orders2, orders/…) is not covered', async () => {
    for (const action of tenantItemActions) {
      expect(await decide(action, keys('TENANT#blue#order-1'), `${table}2`), action).not.toBe('Allowed');
    }
  });
});

describe('a session without its tenant tag', () => {
  it('can do nothing on the tables, even beside a broad grant', async () => {
    for (const policies of [[tagged.tenantRolePermissions], [tagged.tenantRolePermissions, broadGrant]]) {
      for (const action of tenantItemActions) {
        for (const context of [keys('TENANT#blue#order-1'), keys('TENANT#green#order-1'), keys('TENANT##x')]) {
          expect(await evaluate(policies, action, context), `${action} ${JSON.stringify(context)}`).not.toBe('Allowed');
        }
      }
    }
  });
});

describe('tenant ids that hold regular-expression or IAM metacharacters', () => {
  // Allowed in a tenant id: . = + @ - (valid in a session tag and a role session name). In StringLike only * and ?
  // are wildcards; an evaluator (or a policy) that treated the id as a regular expression would let `a.b` reach `aXb`.
  it.each([
    ['a.b', 'aXb'],
    ['a+', 'aa'],
    ['a+', 'a'],
    ['x=y', 'x'],
    ['o@x', 'o'],
    ['a-b', 'a'],
  ])('%s reaches its own keys and not %s', async (own, lookalike) => {
    const session = tenantSessionPolicy(own, { tableArns: [table] });
    for (const action of tenantItemActions) {
      expect(await evaluate([session], action, keys(`TENANT#${own}#k`)), action).toBe('Allowed');
      expect(await evaluate([session], action, keys(`TENANT#${lookalike}#k`)), action).not.toBe('Allowed');
      const tag = { 'aws:PrincipalTag/tenant': own };
      expect(await evaluate([tagged.tenantRolePermissions], action, { ...tag, ...keys(`TENANT#${own}#k`) })).toBe(
        'Allowed',
      );
      expect(
        await evaluate([tagged.tenantRolePermissions], action, { ...tag, ...keys(`TENANT#${lookalike}#k`) }),
      ).not.toBe('Allowed');
    }
  });

  it.each([
    '*',
    '?',
    'a*',
    'blu?',
    ['$', '{aws:username}'].join(''),
    'a#b',
    'a/b',
    'a:b',
    '',
    'blue ',
    'blüe',
    'x'.repeat(49),
  ])('refuses %j before any policy or session is built', (tenantId) => {
    const invalid = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error instanceof RacesafeError && error.is('validation.invalidInput');
      }
      return false;
    };
    const settings = {
      roleArn: tenantRoleArn,
      mode: 'sessionTags',
      tagKey: 'tenant',
      tableArns: [table],
      keys: undefined,
      durationSeconds: 900,
    } as const;
    expect(invalid(() => tenantSessionPolicy(tenantId, { tableArns: [table] }))).toBe(true);
    expect(invalid(() => buildAssumeRoleParams(tenantId, settings))).toBe(true);
    expect(invalid(() => buildAssumeRoleParams(tenantId, { ...settings, mode: 'sessionPolicy' }))).toBe(true);
  });
});
