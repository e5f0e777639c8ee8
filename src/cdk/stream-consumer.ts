/** @module `StreamConsumer`: a Node.js Lambda on a Kinesis or DynamoDB stream, with partial batch responses and an on-failure queue. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { invalidOption } from '../errors.js';
import { rejectUnknownProps } from './props.js';
import { StateTable } from './state-table.js';

/**
 * Where the records come from: a Kinesis stream, or a table's DynamoDB stream (a StateTable with `stream: true`, or a
 * TableV2 with `dynamoStream`).
 */
export type StreamConsumerSource =
  | { readonly kinesis: kinesis.IStream }
  | { readonly dynamodb: StateTable | dynamodb.TableV2 };

/** The Lambda runtimes racesafe supports (nodejs20.x is deprecated: creating functions on it is disabled). */
export type ConsumerRuntime = 'nodejs22.x' | 'nodejs24.x';

/**
 * The item actions racesafe's writes send. A TransactWriteItems (a guarded update, an exactly-once effect) is
 * authorised as its Put/Update/Delete/ConditionCheck actions, so it needs no action of its own.
 */
export const stateWriteActions = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** What a Kinesis event source mapping reads with (Lambda developer guide, "Execution role permissions"). */
export const kinesisReadActions = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/** What a DynamoDB Streams event source mapping reads with, on the stream's ARN (plus ListStreams on '*'). */
export const dynamodbStreamReadActions = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
] as const;

export interface StreamConsumerProps {
  /** The handler's source file (TypeScript or JavaScript), bundled by esbuild as NodejsFunction does. */
  readonly entry: string;
  /** The exported handler's name. @default 'handler' */
  readonly handler?: string;
  readonly source: StreamConsumerSource;
  /** The table the consumer writes, granted {@link stateWriteActions} and named in `STATE_TABLE`. @default none */
  readonly stateTable?: StateTable;
  /** @default 'nodejs24.x' */
  readonly runtime?: ConsumerRuntime;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Concurrent batches per shard (1 to 10); per-key order holds since a key stays on its shard's batch. @default 1 */
  readonly parallelizationFactor?: number;
  /** Retries of a failing batch before its records go to the on-failure queue (0 to 10000). @default 10 */
  readonly retryAttempts?: number;
  /** Records older than this are sent to the on-failure queue instead (60 s to 7 days). @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /** Split a failing batch in two and retry each half. @default true */
  readonly bisectBatchOnError?: boolean;
  /** @default lambda.StartingPosition.TRIM_HORIZON */
  readonly startingPosition?: lambda.StartingPosition;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Extra environment variables. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Powertools Metrics' namespace and service (as `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME`); the
   * alarms read racesafe's EMF metrics there. @default { namespace: 'racesafe', serviceName: the construct's id }
   */
  readonly metrics?: { readonly namespace: string; readonly serviceName: string };
  /** Active X-Ray tracing (grants xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource). @default false */
  readonly tracing?: boolean;
  /** How long the function's logs are kept. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

const streamConsumerProps: Record<keyof StreamConsumerProps, true> = {
  entry: true,
  handler: true,
  source: true,
  stateTable: true,
  runtime: true,
  batchSize: true,
  parallelizationFactor: true,
  retryAttempts: true,
  maxRecordAge: true,
  bisectBatchOnError: true,
  startingPosition: true,
  timeout: true,
  memorySize: true,
  environment: true,
  metrics: true,
  tracing: true,
  logRetention: true,
};

const runtimes: Record<ConsumerRuntime, lambda.Runtime> = {
  'nodejs22.x': lambda.Runtime.NODEJS_22_X,
  'nodejs24.x': lambda.Runtime.NODEJS_24_X,
};

/**
 * The esbuild options of a racesafe consumer, as `NodejsFunction` applies them: an ES module, minified, the AWS SDK
 * left external (every Node.js runtime ships SDK v3), no source maps. `@smithy/core` is bundled: only its small
 * `retry` part is imported.
 */
export function consumerBundling(runtime: ConsumerRuntime): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    target: runtime === 'nodejs22.x' ? 'node22' : 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    sourceMap: false,
    externalModules: ['@aws-sdk/*'],
    // Some CommonJS dependencies call require(); an ES module bundle has none unless it makes one.
    banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    forceDockerBundling: false,
  };
}

/**
 * A stream consumer: a Node.js Lambda function (ESM, SDK external) on a Kinesis stream or a DynamoDB stream, with
 * `ReportBatchItemFailures` (racesafe's stream handlers return partial batch responses), bisect on error, bounded
 * retries and record age, and an on-failure SQS queue (with its own dead-letter queue) that receives what the retries
 * could not process, so nothing is dropped silently. Its role can write its log group, read its stream, send to its
 * on-failure queue and send racesafe's item actions to the state table: nothing else.
 *
 * @example
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import * as kinesis from 'aws-cdk-lib/aws-kinesis';
 * import { StateTable, StreamConsumer } from 'racesafe/cdk';
 *
 * const stack = new Stack(new App(), 'Pipeline');
 * const stream = new kinesis.Stream(stack, 'Events', { encryption: kinesis.StreamEncryption.MANAGED });
 * const state = new StateTable(stack, 'State', { partitionKey: 'key' });
 * new StreamConsumer(stack, 'Consumer', { entry: 'consumer.ts', source: { kinesis: stream }, stateTable: state });
 * ```
 */
export class StreamConsumer extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Receives the batches that exhausted their retries or their maximum age (metadata: shard, sequence numbers). */
  readonly onFailureQueue: sqs.Queue;
  /** The on-failure queue's own dead-letter queue. */
  readonly deadLetterQueue: sqs.Queue;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly metricsNamespace: string;
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    rejectUnknownProps(props, streamConsumerProps, 'StreamConsumer');
    const runtime = props.runtime ?? 'nodejs24.x';
    if (!(runtime in runtimes)) throw invalidOption('StreamConsumer.runtime', "must be 'nodejs22.x' or 'nodejs24.x'");
    const parallelizationFactor = props.parallelizationFactor ?? 1;
    if (!Number.isInteger(parallelizationFactor) || parallelizationFactor < 1 || parallelizationFactor > 10) {
      throw invalidOption('StreamConsumer.parallelizationFactor', 'must be an integer from 1 to 10');
    }
    const retryAttempts = props.retryAttempts ?? 10;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 10_000) {
      throw invalidOption('StreamConsumer.retryAttempts', 'must be an integer from 0 to 10000');
    }
    const maxRecordAge = props.maxRecordAge ?? Duration.hours(6);
    const ageSeconds = maxRecordAge.toSeconds();
    if (ageSeconds < 60 || ageSeconds > 604_800) {
      throw invalidOption('StreamConsumer.maxRecordAge', 'must be from 60 seconds to 7 days');
    }
    const { source } = props;
    if (typeof source !== 'object' || source === null || 'kinesis' in source === 'dynamodb' in source) {
      throw invalidOption('StreamConsumer.source', 'must be { kinesis: stream } or { dynamodb: table }');
    }
    this.metricsNamespace = props.metrics?.namespace ?? 'racesafe';
    this.serviceName = props.metrics?.serviceName ?? id;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role, not the basic execution managed policy: that one may write every log group in the account.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);

    const environment: Record<string, string> = {
      POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      ...(props.stateTable === undefined ? {} : { STATE_TABLE: props.stateTable.table.tableName }),
      ...props.environment,
    };
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: runtimes[runtime],
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment,
      bundling: consumerBundling(runtime),
      ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
    });
    props.stateTable?.table.grant(this.role, ...stateWriteActions);

    // The mapping is built here rather than with KinesisEventSource/DynamoEventSource, whose grantRead adds actions
    // this consumer never needs (kinesis:ListStreams, SubscribeToShard, DescribeStreamConsumer: enhanced fan-out).
    const eventSourceArn =
      'kinesis' in source
        ? source.kinesis.streamArn
        : source.dynamodb instanceof StateTable
          ? source.dynamodb.stream
            ? source.dynamodb.table.tableStreamArn
            : undefined
          : source.dynamodb.tableStreamArn;
    if (eventSourceArn === undefined) {
      throw invalidOption('StreamConsumer.source', 'the table has no stream: give it one (StateTable stream: true)');
    }
    if ('kinesis' in source) {
      source.kinesis.grant(this.role, ...kinesisReadActions);
      // A stream encrypted with a customer managed key: the mapping decrypts as the function's role.
      source.kinesis.encryptionKey?.grantDecrypt(this.role);
    } else {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...dynamodbStreamReadActions], resources: [eventSourceArn] }),
      );
      // ListStreams has no resource-level permissions (Service Authorization Reference: DynamoDB), hence '*'.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }));
    }
    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'EventSourceMapping', {
      target: this.function,
      eventSourceArn,
      startingPosition: props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      parallelizationFactor,
      retryAttempts,
      maxRecordAge,
      bisectBatchOnError: props.bisectBatchOnError ?? true,
      reportBatchItemFailures: true,
      onFailure: new sources.SqsDlq(this.onFailureQueue),
    });
    // CloudFormation creates the mapping only once the role may read the stream, or the creation fails.
    this.eventSourceMapping.node.addDependency(this.role);
  }
}
