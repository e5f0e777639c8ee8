/** @module `racesafe/stream`: Lambda batch handlers for Kinesis, DynamoDB Streams and SQS, and exactly-once effects. */
export type { ApplyOnceOptions, ApplyOnceOutcome } from './apply-once.js';
export { applyOnce } from './apply-once.js';
export type { BatchItemFailure } from './batch-response.js';
export type { SqsDeadLetterOptions } from './dead-letter.js';
export { sqsDeadLetterSink } from './dead-letter.js';
export type { StreamHandlerOptions } from './options.js';
export type { ParseFunction, Parser, SafeParser, StandardResult, StandardSchema } from './parse.js';
export type { PoisonKind, PoisonRecord, PoisonSink } from './poison.js';
export type { RecordContext } from './record.js';
export type { DynamoDBChange } from './sources/dynamodb-streams.js';
export { dynamoDBStreamHandler } from './sources/dynamodb-streams.js';
export { kinesisHandler } from './sources/kinesis.js';
export { sqsHandler } from './sources/sqs.js';
