import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { tenantPolicies } from '../tenant/policy.js';
import { StateTable } from './state-table.js';
import { type TenantAccessArns, TenantIsolatedApi } from './tenant-isolated-api.js';

const entry = `${import.meta.dirname}/fixtures/handler.ts`;

describe('TenantIsolatedApi', { timeout: 60_000 }, () => {
  const stack = new Stack(new App(), 'Test');
  const table = new StateTable(stack, 'Orders', { partitionKey: 'pk' });
  let seen: TenantAccessArns | undefined;
  const api = new TenantIsolatedApi(stack, 'Api', {
    entry,
    table,
    tenantAccess: (arns) => {
      seen = arns;
      return tenantPolicies(arns);
    },
  });
  const template = Template.fromStack(stack);
  const ref = (value: string) => stack.resolve(value);

  it('runs the function with TenancyConfig PER_TENANT, the table and tenant role in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      TenancyConfig: { TenantIsolationMode: 'PER_TENANT' },
      Runtime: 'nodejs24.x',
      Role: ref(api.executionRole.roleArn),
      Environment: {
        Variables: { STATE_TABLE: ref(table.table.tableName), TENANT_ROLE_ARN: ref(api.tenantRole.roleArn) },
      },
    });
  });

  it('maps the x-tenant-id header to X-Amz-Tenant-Id on a proxy integration, and requires it', () => {
    template.resourcePropertiesCountIs(
      'AWS::ApiGateway::Method',
      {
        HttpMethod: 'ANY',
        RequestParameters: { 'method.request.header.x-tenant-id': true },
        RequestValidatorId: Match.anyValue(),
        Integration: {
          Type: 'AWS_PROXY',
          RequestParameters: { 'integration.request.header.X-Amz-Tenant-Id': 'method.request.header.x-tenant-id' },
        },
      },
      2,
    );
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: ref(api.accessLogGroup.logGroupArn), Format: Match.anyValue() },
    });
  });

  it('hands the generator the real ARNs and installs its policies exactly', () => {
    expect(seen).toBeDefined();
    const arns = seen as TenantAccessArns;
    expect(ref(arns.tableArns[0] as string)).toEqual(ref(table.table.tableArn));
    const policies = tenantPolicies(arns);
    // The tenant role trusts only the execution role, with the tenant tag.
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: stack.resolve(policies.tenantRoleTrust),
      MaxSessionDuration: 3600,
    });
    // The permissions are the generator's (racesafe/tenant owns their content), statement for statement, as the CDK
    // normalizes a policy document (a one-element list becomes a string).
    const permissions = stack.resolve(iam.PolicyDocument.fromJson(policies.tenantRolePermissions));
    expect(permissions.Statement).toHaveLength(policies.tenantRolePermissions.Statement.length);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(api.tenantRole.roleName)],
      PolicyDocument: permissions,
    });
    // They name the construct's table, and condition on dynamodb:LeadingKeys.
    expect(JSON.stringify(permissions)).toContain(JSON.stringify(ref(table.table.tableArn)));
    expect(JSON.stringify(permissions)).toContain('dynamodb:LeadingKeys');
    // The execution role writes its logs and assumes the tenant role: no table access of its own.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(api.executionRole.roleName)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: ref(api.logGroup.logGroupArn),
          },
          {
            Sid: 'AssumeTenantAccessRole',
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Resource: ref(api.tenantRole.roleArn),
          },
        ],
      },
    });
    template.resourceCountIs('AWS::IAM::Policy', 2);
  });

  it('takes the tenant id from an authorizer context instead, and refuses a malformed source', () => {
    const other = new Stack(new App(), 'Other');
    const orders = new StateTable(other, 'Orders');
    new TenantIsolatedApi(other, 'Api', {
      entry,
      table: orders,
      tenantAccess: (arns) => tenantPolicies(arns),
      tenantIdSource: 'context.authorizer.tenantId',
    });
    Template.fromStack(other).hasResourceProperties('AWS::ApiGateway::Method', {
      RequestParameters: Match.absent(),
      Integration: {
        RequestParameters: { 'integration.request.header.X-Amz-Tenant-Id': 'context.authorizer.tenantId' },
      },
    });
    expect(
      () =>
        new TenantIsolatedApi(other, 'Bad', {
          entry,
          table: orders,
          tenantAccess: (arns) => tenantPolicies(arns),
          tenantIdSource: "'blue'",
        }),
    ).toThrow(/tenantIdSource/);
  });
});
