/** @module `TenantIsolatedApi`: API Gateway in front of a PER_TENANT Lambda, with a tenant-access role confined by LeadingKeys. */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { invalidOption } from '../errors.js';
import { rejectUnknownProps } from './props.js';
import type { StateTable } from './state-table.js';
import { type ConsumerRuntime, consumerBundling } from './stream-consumer.js';

/** An IAM policy document as JSON (what `racesafe/tenant`'s policy generator returns). */
export interface PolicyDocumentJson {
  readonly Version: string;
  readonly Statement: readonly object[];
}

/** The ARNs the tenant-access policies refer to; CDK tokens at synthesis, resolved by CloudFormation. */
export interface TenantAccessArns {
  readonly tableArns: readonly string[];
  readonly tenantRoleArn: string;
  readonly executionRoleArn: string;
}

/** The policies of tenant isolation, as `tenantPolicies()` from `racesafe/tenant` generates them. */
export interface TenantAccessPolicies {
  /** Added to the execution role: assume (and tag) the tenant-access role. */
  readonly executionRoleStatement: object;
  /** The tenant-access role's trust policy: only the execution role may assume it. */
  readonly tenantRoleTrust: PolicyDocumentJson;
  /** The tenant-access role's permissions: item actions confined by `dynamodb:LeadingKeys`. */
  readonly tenantRolePermissions: PolicyDocumentJson;
}

export interface TenantIsolatedApiProps {
  /** The handler's source file, bundled by esbuild as NodejsFunction does. */
  readonly entry: string;
  /** @default 'handler' */
  readonly handler?: string;
  /** @default 'nodejs24.x' */
  readonly runtime?: ConsumerRuntime;
  /** The tenants' shared table (named in `STATE_TABLE`). The execution role gets no access to it of its own. */
  readonly table: StateTable;
  /**
   * Builds the tenant-access policies from the ARNs, for example `(arns) => tenantPolicies(arns)` from
   * `racesafe/tenant`. The function's own role can only assume the tenant-access role (its ARN is in
   * `TENANT_ROLE_ARN`); every table request then runs with a tenant session's credentials.
   */
  readonly tenantAccess: (arns: TenantAccessArns) => TenantAccessPolicies;
  /**
   * Where API Gateway takes the tenant id that it sends to Lambda as `X-Amz-Tenant-Id`: a request header (the
   * default, for a start), or an authorizer's context such as `context.authorizer.tenantId` (what production wants:
   * a header is whatever the caller says). @default 'method.request.header.x-tenant-id'
   */
  readonly tenantIdSource?: string;
  /** The methods' authorizer. @default none (authorization type NONE) */
  readonly authorizer?: apigateway.IAuthorizer;
  /** @default Duration.seconds(29) (API Gateway's integration timeout) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

const tenantIsolatedApiProps: Record<keyof TenantIsolatedApiProps, true> = {
  entry: true,
  handler: true,
  runtime: true,
  table: true,
  tenantAccess: true,
  tenantIdSource: true,
  authorizer: true,
  timeout: true,
  memorySize: true,
  logRetention: true,
};

const headerSource = /^method\.request\.header\.([A-Za-z0-9-]+)$/;

/**
 * A REST API (`ANY /{proxy+}` and `ANY /`, Lambda proxy integration) in front of a function with
 * `TenancyConfig` `PER_TENANT`: Lambda gives each tenant its own execution environments, keyed by the
 * `X-Amz-Tenant-Id` header that API Gateway sets from {@link TenantIsolatedApiProps.tenantIdSource} (HTTP APIs
 * cannot set it). Lambda isolates the runtime only; the data is isolated by the tenant-access role, whose policies
 * (input: `racesafe/tenant`'s generator) confine each tenant session to its own key prefix.
 *
 * @example
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import { StateTable, TenantIsolatedApi } from 'racesafe/cdk';
 * import { tenantPolicies } from 'racesafe/tenant';
 *
 * const stack = new Stack(new App(), 'Tenants');
 * const table = new StateTable(stack, 'Orders', { partitionKey: 'pk' });
 * new TenantIsolatedApi(stack, 'Api', { entry: 'api.ts', table, tenantAccess: (arns) => tenantPolicies(arns) });
 * ```
 */
export class TenantIsolatedApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly function: nodejs.NodejsFunction;
  readonly executionRole: iam.Role;
  readonly tenantRole: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TenantIsolatedApiProps) {
    super(scope, id);
    rejectUnknownProps(props, tenantIsolatedApiProps, 'TenantIsolatedApi');
    if (typeof props.tenantAccess !== 'function') {
      throw invalidOption('TenantIsolatedApi.tenantAccess', 'must be a function of the ARNs returning the policies');
    }
    const runtime = props.runtime ?? 'nodejs24.x';
    const tenantIdSource = props.tenantIdSource ?? 'method.request.header.x-tenant-id';
    if (
      !/^(method\.request\.(header|querystring|path)\.[A-Za-z0-9_-]+|context\.[A-Za-z0-9_.]+)$/.test(tenantIdSource)
    ) {
      throw invalidOption(
        'TenantIsolatedApi.tenantIdSource',
        'must be an API Gateway mapping expression: method.request.{header,querystring,path}.<name> or context.<path>',
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.logGroup.grantWrite(this.executionRole);
    this.tenantRole = new iam.Role(this, 'TenantAccessRole', {
      assumedBy: new iam.ArnPrincipal(this.executionRole.roleArn),
      maxSessionDuration: Duration.hours(1),
    });
    const policies = props.tenantAccess({
      tableArns: [props.table.table.tableArn],
      tenantRoleArn: this.tenantRole.roleArn,
      executionRoleArn: this.executionRole.roleArn,
    });
    // The generator's trust policy (execution role only, tenant tag required) replaces the one assumedBy made:
    // the L2 Role has no prop for a whole trust document, so it is set on the L1 property.
    (this.tenantRole.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = policies.tenantRoleTrust;
    new iam.Policy(this, 'TenantAccessPolicy', {
      document: iam.PolicyDocument.fromJson(policies.tenantRolePermissions),
      roles: [this.tenantRole],
    });
    this.executionRole.addToPrincipalPolicy(iam.PolicyStatement.fromJson(policies.executionRoleStatement));

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: runtime === 'nodejs22.x' ? lambda.Runtime.NODEJS_22_X : lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      tenancyConfig: lambda.TenancyConfig.PER_TENANT,
      timeout: props.timeout ?? Duration.seconds(29),
      memorySize: props.memorySize ?? 512,
      role: this.executionRole,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { STATE_TABLE: props.table.table.tableName, TENANT_ROLE_ARN: this.tenantRole.roleArn },
      bundling: consumerBundling(runtime),
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      cloudWatchRole: false,
      deployOptions: {
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
      },
    });
    const header = headerSource.exec(tenantIdSource)?.[1];
    const integration = new apigateway.LambdaIntegration(this.function, {
      proxy: true,
      requestParameters: { 'integration.request.header.X-Amz-Tenant-Id': tenantIdSource },
    });
    const methodOptions: apigateway.MethodOptions = {
      // A request without a tenant id is refused by API Gateway (400) before it reaches Lambda.
      ...(header === undefined
        ? {}
        : {
            requestParameters: { [`method.request.header.${header}`]: true },
            // Parameters: the tenant id header is required. Body: checked against a method's request model, when a
            // caller adds one (this construct defines none).
            requestValidator: this.api.addRequestValidator('TenantIdRequired', {
              validateRequestParameters: true,
              validateRequestBody: true,
            }),
          }),
      ...(props.authorizer === undefined ? {} : { authorizer: props.authorizer }),
    };
    this.api.root.addMethod('ANY', integration, methodOptions);
    this.api.root.addResource('{proxy+}').addMethod('ANY', integration, methodOptions);
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG6',
      reason:
        'Execution logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account, one per ' +
        'account and region), which a library construct must not take over; every request is logged in the access ' +
        'log group (JSON, standard fields) and traced in X-Ray instead.',
    });
  }
}
