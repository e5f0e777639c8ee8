/** @module Contention hot spots: a Contributor Insights rule over racesafe's log lines, and its dashboard widget. */
import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/** The outcomes that mean "this key is contended": writes DynamoDB refused on purpose, and exhausted retries. */
export const contentionStatuses = ['stale', 'duplicate', 'rejected', 'conflict'] as const;

/**
 * The body of a Contributor Insights rule (CloudWatchLogRule schema, version 1) that ranks the keys with the most
 * contention outcomes in racesafe's structured log lines (`powertoolsLogger`: `{ "racesafe": { "table", "key",
 * "status", … } }`). Keys are the table and the key's partition attribute; only lines whose status is a contention
 * status count. Pure: the log group name may be a CDK token.
 */
export function contentionRuleBody(options: {
  readonly logGroupNames: readonly string[];
  readonly partitionKey: string;
}): Record<string, unknown> {
  return {
    Schema: { Name: 'CloudWatchLogRule', Version: 1 },
    LogGroupNames: [...options.logGroupNames],
    LogFormat: 'JSON',
    Contribution: {
      Keys: ['$.racesafe.table', `$.racesafe.key.${options.partitionKey}`],
      Filters: [{ Match: '$.racesafe.status', In: [...contentionStatuses] }],
    },
    AggregateOn: 'Count',
  };
}

/** A rule body as the JSON string CloudFormation wants, with tokens (the log group's name) resolved at deploy. */
export function ruleBodyJson(scope: Construct, body: Record<string, unknown>): string {
  return Stack.of(scope).toJsonString(body);
}

/**
 * A dashboard widget of a Contributor Insights rule's top contributors. The CDK has no such widget; CloudWatch's
 * dashboard body takes an `insightRule` in a metric widget's properties.
 */
export class InsightRuleWidget extends cloudwatch.ConcreteWidget {
  constructor(
    private readonly options: {
      readonly title: string;
      readonly ruleName: string;
      readonly region: string;
      readonly width?: number;
      readonly height?: number;
      readonly maxContributorCount?: number;
    },
  ) {
    super(options.width ?? 12, options.height ?? 6);
  }

  toJson(): unknown[] {
    return [
      {
        type: 'metric',
        width: this.width,
        height: this.height,
        x: this.x,
        y: this.y,
        properties: {
          title: this.options.title,
          region: this.options.region,
          view: 'timeSeries',
          stacked: false,
          legend: { position: 'bottom' },
          insightRule: {
            ruleName: this.options.ruleName,
            maxContributorCount: this.options.maxContributorCount ?? 10,
            orderBy: 'Sum',
          },
        },
      },
    ];
  }
}
