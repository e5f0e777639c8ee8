/** @module `racesafe/testing`: real local engines and race tooling for your own tests. */
export type { Capability, EngineCapabilities } from './capabilities.js';
export { probeCapabilities } from './capabilities.js';
export type { CheckDefinition, CheckEnv, CheckHandler, TableSnapshot } from './check-definition.js';
export { defineCheck } from './check-definition.js';
export type { CommitLogEntry, VersionRegression } from './commit-log.js';
export { readCommitLog, versionRegressions } from './commit-log.js';
export type { DynamoDBEngine, EngineName, StartDynamoDBOptions } from './dynamodb-engine.js';
export { localClientConfig, startDynamoDB } from './dynamodb-engine.js';
export type {
  BatchStepName,
  BatchVerdict,
  DynamoDBStreamsEventSourceOptions,
  EventSourceFailure,
  EventSourceFaults,
  EventSourceIdentity,
  EventSourceOptions,
  EventSourceRunner,
  EventSourceStats,
  KinesisEventSourceOptions,
  PlannedStep,
  SourceRecord,
} from './event-source/index.js';
export {
  BatchStep,
  dynamoDBEventRecord,
  kinesisEventRecord,
  planAfterInvocation,
  readBatchResponse,
  runDynamoDBStreamsEventSource,
  runKinesisEventSource,
  toWireAttributeValue,
} from './event-source/index.js';
export type {
  CrashFault,
  FaultOptions,
  FaultStats,
  Faults,
  FaultTarget,
  LatencyFault,
  LostResponseFault,
  ThrottlingFault,
  TransactionConflictFault,
} from './faults.js';
export {
  createFaults,
  isSimulatedCrash,
  SimulatedCrash,
  SimulatedNetworkError,
  throttlingError,
  transactionConflictError,
} from './faults.js';
export type { AttachableClient, RequestDescription } from './faults-stack.js';
export { hasJava } from './java.js';
export type { KinesisEngine, StartKinesisOptions } from './kinesis-engine.js';
export { startKinesis, waitForActiveStream } from './kinesis-engine.js';
export type {
  ColdStartCount,
  ColdStartLoadOptions,
  LambdaPool,
  LambdaPoolOptions,
  LambdaPoolStats,
  TenancyMode,
} from './lambda-pool.js';
export { coldStartsUnderLoad, lambdaPool, skewedTenant } from './lambda-pool.js';
export type { Random } from './random.js';
export { randomInt, seededRandom, shuffled } from './random.js';
export type { ScheduledRun, Scheduler, SchedulerOptions, TraceEntry, Worker, WorkerContext } from './scheduler.js';
export { createScheduler, formatTrace } from './scheduler.js';
export type { CreatedTable, CreateTableOptions, KeyAttribute } from './tables.js';
export { createTable, deleteTable, uniqueTableName } from './tables.js';
export type {
  AccessEvaluator,
  AccessRequest,
  EnforceLeadingKeysOptions,
  EnforcerStats,
  LeadingKeysEnforcer,
} from './tenant-enforcer.js';
export { accessRequests, enforceLeadingKeys } from './tenant-enforcer.js';
