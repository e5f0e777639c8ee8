import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { describe, expect, it } from 'vitest';
import { contentionRuleBody } from './contention.js';
import { ConsumerMonitoring } from './monitoring.js';
import { StateTable } from './state-table.js';
import { StreamConsumer } from './stream-consumer.js';

const entry = `${import.meta.dirname}/fixtures/handler.ts`;

describe('contentionRuleBody', () => {
  it('ranks table and partition key over the contention statuses of racesafe log lines', () => {
    expect(contentionRuleBody({ logGroupNames: ['/aws/lambda/consumer'], partitionKey: 'key' })).toEqual({
      Schema: { Name: 'CloudWatchLogRule', Version: 1 },
      LogGroupNames: ['/aws/lambda/consumer'],
      LogFormat: 'JSON',
      Contribution: {
        Keys: ['$.racesafe.table', '$.racesafe.key.key'],
        Filters: [{ Match: '$.racesafe.status', In: ['stale', 'duplicate', 'rejected', 'conflict'] }],
      },
      AggregateOn: 'Count',
    });
  });
});

describe('ConsumerMonitoring', { timeout: 60_000 }, () => {
  const stack = new Stack(new App(), 'Test');
  const stream = new kinesis.Stream(stack, 'Events');
  const state = new StateTable(stack, 'State', { partitionKey: 'key' });
  const consumer = new StreamConsumer(stack, 'Consumer', {
    entry,
    source: { kinesis: stream },
    stateTable: state,
    metrics: { namespace: 'orders', serviceName: 'state-consumer' },
  });
  new ConsumerMonitoring(stack, 'Monitoring', {
    consumer,
    stateTable: state,
    thresholds: { errors: 3, retried: 50, iteratorAge: Duration.minutes(2), onFailureQueueDepth: 2 },
  });
  const template = Template.fromStack(stack);

  it("alarms on racesafe's EMF names in the consumer's namespace and service, with the thresholds given", () => {
    const alarm = (metricName: string, threshold: number) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'orders',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'state-consumer' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    alarm('RacesafeError', 3);
    alarm('RacesafeRejected', 1);
    alarm('RacesafeRetried', 50);
    alarm('RacesafeConditionFailed', 1000);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  it("alarms on the consumer's iterator age and the on-failure queue's depth", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(consumer.function.functionName) }],
      Statistic: 'Maximum',
      Threshold: 120_000,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(consumer.onFailureQueue.queueName) }],
      Statistic: 'Maximum',
      Threshold: 2,
    });
  });

  it("adds a Contributor Insights rule over the consumer's log group and a dashboard with both rules", () => {
    const rules = template.findResources('AWS::CloudWatch::InsightRule');
    const [rule] = Object.values(rules);
    expect(rule?.Properties.RuleState).toBe('ENABLED');
    const body = JSON.stringify(stack.resolve(rule?.Properties.RuleBody));
    expect(body).toContain('$.racesafe.key.key');
    expect(body).toContain(JSON.stringify(stack.resolve(consumer.logGroup.logGroupName)));
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: Match.anyValue() });
    const dashboard = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(dashboard).toContain('insightRule');
    expect(dashboard).toContain('DynamoDBContributorInsights-PKT-');
    expect(dashboard).toContain('RacesafeConditionFailed');
  });

  it('refuses an unknown threshold name', () => {
    expect(() => new ConsumerMonitoring(stack, 'Bad', { consumer, thresholds: { error: 1 } as never })).toThrow(
      /thresholds\.error/,
    );
  });
});
