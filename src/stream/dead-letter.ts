/** @module A poison sink that sends each poison record, with its reason, to an SQS dead-letter queue. */
import { createHash } from 'node:crypto';
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import type { PoisonRecord, PoisonSink } from './poison.js';

/**
 * The part of `@aws-sdk/client-sqs`' `SQSClient` used here, declared structurally so that racesafe's published types do
 * not need that optional package (an `SQSClient` is assignable to it).
 */
export interface SqsClientLike {
  send(command: never): Promise<unknown>;
}

/** The SendMessage input this sink builds (a subset of the SDK's `SendMessageCommandInput`, assignable to it). */
export interface DeadLetterMessage {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  readonly MessageAttributes: Record<string, { readonly DataType: 'String'; readonly StringValue: string }>;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

export interface SqsDeadLetterOptions {
  /** The caller's SQS client; it is never created or destroyed here. */
  readonly client: SqsClientLike;
  /** The dead-letter queue's URL. A URL ending in `.fifo` is a FIFO queue. */
  readonly queueUrl: string;
  /** The message group on a FIFO dead-letter queue. @default 'racesafe-poison' */
  readonly messageGroupId?: string;
}

/**
 * A variable, not a literal: esbuild, Rollup and webpack resolve a literal `import('…')` at build time and fail when the
 * optional package is missing; they leave a computed specifier to Node at run time.
 */
const sqsClientPackage: string = '@aws-sdk/client-sqs';

/** The SendMessage request for one poison record (pure). */
export function buildDeadLetterMessage<Raw>(
  options: Pick<SqsDeadLetterOptions, 'queueUrl' | 'messageGroupId'>,
  poison: PoisonRecord<Raw>,
): DeadLetterMessage {
  const fifo = options.queueUrl.endsWith('.fifo');
  const body = {
    kind: poison.kind,
    reason: poison.reason,
    handler: poison.handler,
    origin: poison.origin,
    eventId: poison.eventId,
    itemIdentifier: poison.itemIdentifier,
    record: poison.raw,
  };
  return {
    QueueUrl: options.queueUrl,
    MessageBody: JSON.stringify(body),
    MessageAttributes: {
      racesafeKind: { DataType: 'String', StringValue: poison.kind },
      racesafeEventId: { DataType: 'String', StringValue: poison.eventId },
    },
    ...(fifo
      ? {
          MessageGroupId: options.messageGroupId ?? 'racesafe-poison',
          // The same record sent twice (its batch was redelivered) is deduplicated by SQS for 5 minutes.
          MessageDeduplicationId: createHash('sha256').update(`${poison.origin}\u0000${poison.eventId}`).digest('hex'),
        }
      : {}),
  };
}

/**
 * A poison sink for `onPoison`: one SendMessage per poison record, whose body holds the kind, the reason, the ids and
 * the record exactly as delivered. If SQS refuses it (too large, no access), the record is reported failed instead.
 * `@aws-sdk/client-sqs` is loaded on first use, so handlers that do not use this sink do not need it, and bundlers do
 * not try to resolve it either: keep it external (the Lambda Node.js runtimes provide it) or installed beside racesafe.
 *
 * @example
 * ```ts
 * import { SQSClient } from '@aws-sdk/client-sqs';
 * import { kinesisHandler, sqsDeadLetterSink } from 'racesafe/stream';
 *
 * const sqs = new SQSClient({});
 * export const handler = kinesisHandler({
 *   onPoison: sqsDeadLetterSink({ client: sqs, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/poison' }),
 *   handle: async (event) => console.log(event),
 * });
 * ```
 */
export function sqsDeadLetterSink<Raw = unknown>(options: SqsDeadLetterOptions): PoisonSink<Raw> {
  rejectUnknownOptions(options, ['client', 'queueUrl', 'messageGroupId'], 'sqsDeadLetterSink');
  if (typeof options.client?.send !== 'function')
    throw invalidOption('sqsDeadLetterSink.client', 'must be an SQSClient');
  if (typeof options.queueUrl !== 'string' || options.queueUrl === '') {
    throw invalidOption('sqsDeadLetterSink.queueUrl', 'must be a queue URL');
  }
  return async (poison) => {
    const { SendMessageCommand } = (await import(
      /* webpackIgnore: true */ /* @vite-ignore */ sqsClientPackage
    )) as typeof import('@aws-sdk/client-sqs');
    await options.client.send(new SendMessageCommand(buildDeadLetterMessage(options, poison)) as never);
  };
}
