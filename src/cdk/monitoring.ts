/** @module `ConsumerMonitoring`: alarms on racesafe's metrics, the stream's iterator age and the on-failure queue, contention insights and a dashboard. */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { contentionRuleBody, InsightRuleWidget, ruleBodyJson } from './contention.js';
import { rejectUnknownProps } from './props.js';
import type { StateTable } from './state-table.js';
import type { StreamConsumer } from './stream-consumer.js';

/** Alarm thresholds: each alarm fires when its sum (or maximum) over one period reaches the threshold. */
export interface ConsumerAlarmThresholds {
  /** `RacesafeError` per period: SDK or service failures racesafe passed on. @default 1 */
  readonly errors?: number;
  /** `RacesafeRejected` per period: a guard or invariant said no. @default 1 */
  readonly rejected?: number;
  /** `RacesafeRetried` per period: throttling, conflicts, ambiguous failures retried. @default 100 */
  readonly retried?: number;
  /**
   * `RacesafeConditionFailed` per period (stale, duplicate, rejected, conflict): expected in small numbers on
   * redelivery; a surge means contention or a replay. @default 1000
   */
  readonly conditionFailed?: number;
  /** The consumer's maximum `IteratorAge`: how far behind the stream it is. @default Duration.minutes(5) */
  readonly iteratorAge?: Duration;
  /** Messages visible in the on-failure queue: batches the retries gave up on. @default 1 */
  readonly onFailureQueueDepth?: number;
}

export interface ConsumerMonitoringProps {
  readonly consumer: StreamConsumer;
  /** The table the consumer writes: its throttled keys (Contributor Insights) join the dashboard. @default none */
  readonly stateTable?: StateTable;
  /** The partition key attribute in racesafe's log lines (`racesafe.key.<name>`). @default the state table's, else 'pk' */
  readonly partitionKey?: string;
  /** The metric name prefix given to `powertoolsMetrics`. @default 'Racesafe' */
  readonly metricPrefix?: string;
  /** @default the defaults of each {@link ConsumerAlarmThresholds} field */
  readonly thresholds?: ConsumerAlarmThresholds;
  /** The alarms' evaluation period. @default Duration.minutes(5) */
  readonly period?: Duration;
  /** Where the alarms notify (for example an SNS topic action). @default none */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
}

const consumerMonitoringProps: Record<keyof ConsumerMonitoringProps, true> = {
  consumer: true,
  stateTable: true,
  partitionKey: true,
  metricPrefix: true,
  thresholds: true,
  period: true,
  alarmActions: true,
};

/**
 * Watches a {@link StreamConsumer}: alarms on racesafe's own EMF metrics (the names `powertoolsMetrics` emits, in the
 * consumer's Powertools namespace and `service` dimension), the stream's iterator age and the on-failure queue's
 * depth; a Contributor Insights rule ranking the keys with the most stale, duplicate, rejected and conflict outcomes
 * in the consumer's racesafe log lines; and a dashboard with the metrics, the rule and the table's most throttled keys.
 *
 * @example
 * ```ts
 * import { Duration } from 'aws-cdk-lib';
 * import { ConsumerMonitoring, type StreamConsumer } from 'racesafe/cdk';
 *
 * declare const consumer: StreamConsumer;
 * new ConsumerMonitoring(consumer, 'Monitoring', { consumer, thresholds: { iteratorAge: Duration.minutes(1) } });
 * ```
 */
export class ConsumerMonitoring extends Construct {
  readonly alarms: Readonly<Record<keyof ConsumerAlarmThresholds, cloudwatch.Alarm>>;
  readonly contentionRule: cloudwatch.CfnInsightRule;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ConsumerMonitoringProps) {
    super(scope, id);
    rejectUnknownProps(props, consumerMonitoringProps, 'ConsumerMonitoring');
    const { consumer } = props;
    const thresholds = props.thresholds ?? {};
    rejectUnknownProps(
      thresholds,
      {
        errors: true,
        rejected: true,
        retried: true,
        conditionFailed: true,
        iteratorAge: true,
        onFailureQueueDepth: true,
      },
      'ConsumerMonitoring.thresholds',
    );
    const period = props.period ?? Duration.minutes(5);
    const prefix = props.metricPrefix ?? 'Racesafe';
    const racesafeMetric = (suffix: string) =>
      new cloudwatch.Metric({
        namespace: consumer.metricsNamespace,
        metricName: `${prefix}${suffix}`,
        dimensionsMap: { service: consumer.serviceName },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    const countAlarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No datapoint means no such outcome was emitted: the good case, not an unknown one.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      for (const action of props.alarmActions ?? []) alarm.addAlarmAction(action);
      return alarm;
    };
    const iteratorAge = consumer.function.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period });
    const queueDepth = consumer.onFailureQueue.metricApproximateNumberOfMessagesVisible({
      statistic: cloudwatch.Stats.MAXIMUM,
      period,
    });
    this.alarms = {
      errors: countAlarm(
        'Errors',
        racesafeMetric('Error'),
        thresholds.errors ?? 1,
        'racesafe passed on SDK or service errors',
      ),
      rejected: countAlarm(
        'Rejected',
        racesafeMetric('Rejected'),
        thresholds.rejected ?? 1,
        'a racesafe guard or invariant refused writes',
      ),
      retried: countAlarm(
        'Retried',
        racesafeMetric('Retried'),
        thresholds.retried ?? 100,
        'racesafe retried many requests (throttling, conflicts, ambiguous failures)',
      ),
      conditionFailed: countAlarm(
        'ConditionFailed',
        racesafeMetric('ConditionFailed'),
        thresholds.conditionFailed ?? 1000,
        'many conditional writes lost (stale, duplicate, rejected, conflict): contention or a replay',
      ),
      iteratorAge: countAlarm(
        'IteratorAge',
        iteratorAge,
        (thresholds.iteratorAge ?? Duration.minutes(5)).toMilliseconds(),
        'the consumer is falling behind its stream',
      ),
      onFailureQueueDepth: countAlarm(
        'OnFailureQueueDepth',
        queueDepth,
        thresholds.onFailureQueueDepth ?? 1,
        'batches exhausted their retries or maximum age and were sent to the on-failure queue',
      ),
    };

    const partitionKey = props.partitionKey ?? props.stateTable?.partitionKey ?? 'pk';
    this.contentionRule = new cloudwatch.CfnInsightRule(this, 'ContentionRule', {
      ruleName: `${Stack.of(this).stackName}-${id}-contention`,
      ruleState: 'ENABLED',
      ruleBody: ruleBodyJson(
        this,
        contentionRuleBody({ logGroupNames: [consumer.logGroup.logGroupName], partitionKey }),
      ),
    });

    const region = Stack.of(this).region;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'racesafe outcomes',
        width: 12,
        left: ['Applied', 'Stale', 'Duplicate', 'Rejected', 'Conflict', 'ConditionFailed', 'Retried', 'Error'].map(
          racesafeMetric,
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Iterator age (ms) and on-failure queue',
        width: 12,
        left: [iteratorAge],
        right: [queueDepth],
      }),
    );
    this.dashboard.addWidgets(
      new InsightRuleWidget({
        title: 'Most contended keys (stale, duplicate, rejected, conflict)',
        ruleName: this.contentionRule.attrRuleName,
        region,
      }),
      ...(props.stateTable?.contributorInsights
        ? [
            new InsightRuleWidget({
              title: 'Most throttled keys (DynamoDB Contributor Insights)',
              ruleName: props.stateTable.throttledKeysRuleName,
              region,
            }),
          ]
        : []),
    );
  }
}
