/** @module The reference deployments as CDK stacks: the seed pipeline and the tenant API, checked by cdk-nag. */
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { ConsumerMonitoring, consumerBundling, StateTable, StreamConsumer, TenantIsolatedApi } from 'racesafe/cdk';
import { tenantPolicies } from 'racesafe/tenant';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Producer -> Kinesis -> consumer (kinesisHandler + putIfNewer + metrics) -> state table, with its alarms. */
export class PipelineStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly state: StateTable;
  readonly consumer: StreamConsumer;
  readonly monitoring: ConsumerMonitoring;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.stream = new kinesis.Stream(this, 'Events', {
      shardCount: 4,
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(24),
    });
    // Downstream readers use the table's stream: a duplicate must not add a record to it (putIfNewer writes none).
    this.state = new StateTable(this, 'State', { partitionKey: 'key', stream: true });

    const producerLogs = new logs.LogGroup(this, 'ProducerLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const producerRole = new iam.Role(this, 'ProducerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    producerLogs.grantWrite(producerRole);
    this.stream.grant(producerRole, 'kinesis:PutRecords');
    new nodejs.NodejsFunction(this, 'Producer', {
      entry: here('../pipeline/producer.ts'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(60),
      role: producerRole,
      logGroup: producerLogs,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { STREAM_NAME: this.stream.streamName },
      bundling: consumerBundling('nodejs24.x'),
    });

    this.consumer = new StreamConsumer(this, 'Consumer', {
      entry: here('handlers/consumer.ts'),
      source: { kinesis: this.stream },
      stateTable: this.state,
      batchSize: 100,
      parallelizationFactor: 4,
      retryAttempts: 10,
      maxRecordAge: Duration.hours(6),
      metrics: { namespace: 'racesafe-pipeline', serviceName: 'state-consumer' },
    });
    this.monitoring = new ConsumerMonitoring(this, 'Monitoring', { consumer: this.consumer, stateTable: this.state });
  }
}

/** API Gateway -> PER_TENANT function, with a tenant-access role confined by dynamodb:LeadingKeys. */
export class TenantApiStack extends Stack {
  readonly table: StateTable;
  readonly api: TenantIsolatedApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.table = new StateTable(this, 'Orders', { partitionKey: 'pk' });
    this.api = new TenantIsolatedApi(this, 'Orders Api', {
      entry: here('handlers/tenant-api.ts'),
      table: this.table,
      tenantAccess: (arns) => tenantPolicies(arns),
    });
  }
}

/**
 * The app, with cdk-nag's AWS Solutions rules as a policy validation plugin: synthesis fails on any finding that is
 * not acknowledged below with its reason.
 *
 * @example
 * ```ts
 * import { buildApp } from './stacks.js';
 *
 * buildApp('cdk.out').synth();
 * ```
 */
export function buildApp(outdir: string): { app: App; pipeline: PipelineStack; tenants: TenantApiStack } {
  const app = new App({ outdir });
  const pipeline = new PipelineStack(app, 'RacesafePipeline');
  const tenants = new TenantApiStack(app, 'RacesafeTenantApi');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  acknowledgeFindings(pipeline, tenants);
  return { app, pipeline, tenants };
}

/** Every cdk-nag finding that stays, with the reason it is right for this deployment. */
function acknowledgeFindings(_pipeline: PipelineStack, tenants: TenantApiStack): void {
  const methods = tenants.api.api.methods;
  for (const method of methods) {
    Validations.of(method).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'The reference deployment takes the tenant id from the x-tenant-id header so that it deploys on its own; ' +
          'in production pass an authorizer (TenantIsolatedApi authorizer prop) and map context.authorizer.tenantId, ' +
          'since a header says whatever the caller wants.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason:
          "The identity provider (Cognito, a Lambda authorizer over your IdP, IAM) is the deployer's choice; the " +
          'reference deployment has none, see the APIG4 acknowledgment.',
      },
    );
  }
  Validations.of(tenants.api.api.deploymentStage).acknowledge({
    id: 'AwsSolutions::AwsSolutions-APIG3',
    reason:
      'A WAFv2 web ACL is an account-level edge policy (rules, cost, ownership) that this reference deployment does ' +
      'not define; associate your own with the stage.',
  });
}
