import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { describe, expect, it } from 'vitest';
import { StateTable } from './state-table.js';
import { StreamConsumer } from './stream-consumer.js';

const entry = `${import.meta.dirname}/fixtures/handler.ts`;

describe('StreamConsumer on Kinesis', { timeout: 60_000 }, () => {
  const stack = new Stack(new App(), 'Test');
  const stream = new kinesis.Stream(stack, 'Events', { encryption: kinesis.StreamEncryption.MANAGED });
  const state = new StateTable(stack, 'State', { partitionKey: 'key' });
  const consumer = new StreamConsumer(stack, 'Consumer', {
    entry,
    source: { kinesis: stream },
    stateTable: state,
    parallelizationFactor: 4,
    retryAttempts: 5,
    maxRecordAge: Duration.hours(1),
    metrics: { namespace: 'orders', serviceName: 'state-consumer' },
  });
  const template = Template.fromStack(stack);
  const ref = (value: string) => stack.resolve(value);

  it('is a nodejs24.x ES module on arm64, SDK external, logging JSON to its own log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      Timeout: 60,
      MemorySize: 512,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: ref(consumer.logGroup.logGroupName) },
      Role: ref(consumer.role.roleArn),
      Environment: {
        Variables: {
          POWERTOOLS_METRICS_NAMESPACE: 'orders',
          POWERTOOLS_SERVICE_NAME: 'state-consumer',
          STATE_TABLE: ref(state.table.tableName),
        },
      },
    });
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { TracingConfig: Match.anyValue() }, 0);
  });

  it('maps the stream with partial batch responses, bisect, retries, record age, parallelization, on-failure queue', () => {
    template.hasResource('AWS::Lambda::EventSourceMapping', {
      Properties: {
        EventSourceArn: ref(stream.streamArn),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 3600,
        ParallelizationFactor: 4,
        BatchSize: 100,
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: ref(consumer.onFailureQueue.queueArn) } },
      },
      DependsOn: Match.arrayWith([stack.getLogicalId(consumer.role.node.defaultChild as CfnElement)]),
    });
  });

  it('gives the on-failure queue its own dead-letter queue; both encrypted, TLS only, kept 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: ref(consumer.deadLetterQueue.queueArn), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 2);
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
        },
      },
      2,
    );
  });

  it('grants exactly: its log group, racesafe item actions on the table, stream reads, send to its queue', () => {
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(consumer.role.roleName)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: ref(consumer.logGroup.logGroupArn),
          },
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:ConditionCheckItem',
            ],
            Resource: ref(state.table.tableArn),
          },
          {
            Effect: 'Allow',
            Action: [
              'kinesis:DescribeStream',
              'kinesis:DescribeStreamSummary',
              'kinesis:GetRecords',
              'kinesis:GetShardIterator',
              'kinesis:ListShards',
            ],
            Resource: ref(stream.streamArn),
          },
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: ref(consumer.onFailureQueue.queueArn),
          },
        ],
      },
    });
  });
});

describe('StreamConsumer on a DynamoDB stream', { timeout: 60_000 }, () => {
  it('reads the table stream with DescribeStream/GetRecords/GetShardIterator there and ListStreams on *', () => {
    const stack = new Stack(new App(), 'Test');
    const source = new StateTable(stack, 'Source', { partitionKey: 'pk', stream: true });
    new StreamConsumer(stack, 'Consumer', { entry, source: { dynamodb: source }, runtime: 'nodejs22.x' });
    const template = Template.fromStack(stack);
    const streamArn = stack.resolve(source.table.tableStreamArn);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x' });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: streamArn,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 21_600,
      ParallelizationFactor: 1,
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            Resource: streamArn,
          },
          { Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' },
        ]),
      },
    });
    // No table write access was asked for: none granted.
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>,
    );
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('Item'))).toEqual([]);
  });

  it('refuses bad props before synthesis: runtime, parallelization, retries, record age, a stream-less table', () => {
    const stack = new Stack(new App(), 'Test');
    const stream = new kinesis.Stream(stack, 'Events');
    const base = { entry, source: { kinesis: stream } };
    expect(() => new StreamConsumer(stack, 'A', { ...base, runtime: 'nodejs20.x' as never })).toThrow(/runtime/);
    expect(() => new StreamConsumer(stack, 'B', { ...base, parallelizationFactor: 11 })).toThrow(/1 to 10/);
    expect(() => new StreamConsumer(stack, 'C', { ...base, retryAttempts: -1 })).toThrow(/retryAttempts/);
    expect(() => new StreamConsumer(stack, 'D', { ...base, maxRecordAge: Duration.seconds(30) })).toThrow(/60 seconds/);
    expect(() => new StreamConsumer(stack, 'E', { ...base, batchsize: 10 } as never)).toThrow(/batchsize/);
    const noStream = new StateTable(stack, 'NoStream');
    expect(() => new StreamConsumer(stack, 'F', { entry, source: { dynamodb: noStream } })).toThrow(/no stream/);
  });
});
