/** @module The local event-source runner: Lambda's event source mapping for Kinesis and DynamoDB Streams, played locally. */
export type { BatchStepName, PlannedStep, SourceRecord } from './batch-processor.js';
export { BatchStep, planAfterInvocation } from './batch-processor.js';
export type { BatchVerdict } from './batch-response.js';
export { readBatchResponse } from './batch-response.js';
export type { DynamoDBStreamsEventSourceOptions } from './dynamodb-streams-source.js';
export { runDynamoDBStreamsEventSource } from './dynamodb-streams-source.js';
export type { KinesisEventSourceOptions } from './kinesis-source.js';
export { runKinesisEventSource } from './kinesis-source.js';
export type { EventSourceIdentity } from './lambda-events.js';
export { dynamoDBEventRecord, kinesisEventRecord, toWireAttributeValue } from './lambda-events.js';
export type { EventSourceFailure, EventSourceFaults, EventSourceOptions } from './options.js';
export type { EventSourceRunner } from './runner.js';
export type { EventSourceStats } from './stats.js';
