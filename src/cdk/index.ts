/** @module `racesafe/cdk`: constructs for the reference deployments (optional peers: aws-cdk-lib, constructs). */
export { contentionRuleBody, contentionStatuses, InsightRuleWidget } from './contention.js';
export type { ConsumerAlarmThresholds, ConsumerMonitoringProps } from './monitoring.js';
export { ConsumerMonitoring } from './monitoring.js';
export type { StateTableProps } from './state-table.js';
export { StateTable } from './state-table.js';
export type { ConsumerRuntime, StreamConsumerProps, StreamConsumerSource } from './stream-consumer.js';
export {
  consumerBundling,
  dynamodbStreamReadActions,
  kinesisReadActions,
  StreamConsumer,
  stateWriteActions,
} from './stream-consumer.js';
export type {
  PolicyDocumentJson,
  TenantAccessArns,
  TenantAccessPolicies,
  TenantIsolatedApiProps,
} from './tenant-isolated-api.js';
export { TenantIsolatedApi } from './tenant-isolated-api.js';
