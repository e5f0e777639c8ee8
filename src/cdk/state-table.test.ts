import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { StateTable } from './state-table.js';

const synth = (build: (stack: Stack) => void) => {
  const stack = new Stack(new App(), 'Test');
  build(stack);
  return Template.fromStack(stack);
};

describe('StateTable', { timeout: 60_000 }, () => {
  it('is on-demand, with TTL on expiresAt, recovery, throttled-key insights, deletion protection and retained', () => {
    const template = synth((stack) => new StateTable(stack, 'State', { partitionKey: 'key' }));
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        StreamSpecification: Match.absent(),
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            ContributorInsightsSpecification: { Enabled: true, Mode: 'THROTTLED_KEYS' },
            DeletionProtectionEnabled: true,
          }),
        ],
      },
    });
  });

  it('adds a NEW_AND_OLD_IMAGES stream, a sort key and another TTL attribute when asked', () => {
    const template = synth(
      (stack) =>
        new StateTable(stack, 'State', {
          partitionKey: 'pk',
          sortKey: 'sk',
          stream: true,
          timeToLiveAttribute: 'ttl',
          removalPolicy: RemovalPolicy.DESTROY,
          contributorInsights: false,
        }),
    );
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        Replicas: [
          Match.objectLike({
            ContributorInsightsSpecification: { Enabled: false },
            DeletionProtectionEnabled: false,
          }),
        ],
      },
    });
  });

  it('refuses an unknown prop, naming it and the allowed ones', () => {
    const attempt = () =>
      new StateTable(new Stack(new App(), 'Test'), 'State', { partitionKey: 'pk', ttl: 'x' } as never);
    expect(attempt).toThrow(RacesafeError);
    expect(attempt).toThrow(/StateTable\.ttl.*allowed: partitionKey/);
  });
});
