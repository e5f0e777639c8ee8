/** @module `StateTable`: a DynamoDB table for racesafe state, with the TTL, stream, recovery and retention it relies on. */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { rejectUnknownProps } from './props.js';

export interface StateTableProps {
  /** The partition key attribute (a string). @default 'pk' */
  readonly partitionKey?: string;
  /** A sort key attribute (a string), if the table has one. @default none */
  readonly sortKey?: string;
  /** An explicit table name. @default a name CloudFormation generates */
  readonly tableName?: string;
  /**
   * A stream of NEW_AND_OLD_IMAGES: the commit log that downstream consumers (and racesafe's checkers) read.
   * @default false
   */
  readonly stream?: boolean;
  /**
   * The TTL attribute: racesafe's tombstones, dedup markers and leases write it (epoch seconds), so DynamoDB deletes
   * them when they expire. @default 'expiresAt'
   */
  readonly timeToLiveAttribute?: string;
  /** Contributor Insights on the table's most throttled keys (THROTTLED_KEYS mode). @default true */
  readonly contributorInsights?: boolean;
  /** What happens to the table when it leaves the stack. State outlives deployments. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const statTableProps: Record<keyof StateTableProps, true> = {
  partitionKey: true,
  sortKey: true,
  tableName: true,
  stream: true,
  timeToLiveAttribute: true,
  contributorInsights: true,
  removalPolicy: true,
};

/**
 * A TableV2 for racesafe state: on-demand, TTL on `expiresAt`, point-in-time recovery, deletion protection and a
 * retain policy by default, an optional NEW_AND_OLD_IMAGES stream, Contributor Insights on throttled keys.
 *
 * @example
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import { StateTable } from 'racesafe/cdk';
 *
 * const stack = new Stack(new App(), 'State');
 * const state = new StateTable(stack, 'DeviceState', { partitionKey: 'key', stream: true });
 * ```
 */
export class StateTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly partitionKey: string;
  readonly timeToLiveAttribute: string;
  readonly contributorInsights: boolean;
  /** Whether the table has a NEW_AND_OLD_IMAGES stream. */
  readonly stream: boolean;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    rejectUnknownProps(props, statTableProps, 'StateTable');
    this.partitionKey = props.partitionKey ?? 'pk';
    this.timeToLiveAttribute = props.timeToLiveAttribute ?? 'expiresAt';
    this.contributorInsights = props.contributorInsights ?? true;
    this.stream = props.stream ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: this.partitionKey, type: dynamodb.AttributeType.STRING },
      ...(props.sortKey === undefined ? {} : { sortKey: { name: props.sortKey, type: dynamodb.AttributeType.STRING } }),
      ...(props.tableName === undefined ? {} : { tableName: props.tableName }),
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: this.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
      ...(this.stream ? { dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
      contributorInsightsSpecification: this.contributorInsights
        ? { enabled: true, mode: dynamodb.ContributorInsightsMode.THROTTLED_KEYS }
        : { enabled: false },
    });
  }

  /**
   * The name of the rule DynamoDB creates for the most throttled partition keys (Contributor Insights, THROTTLED_KEYS).
   */
  get throttledKeysRuleName(): string {
    return `DynamoDBContributorInsights-PKT-${this.table.tableName}`;
  }
}
