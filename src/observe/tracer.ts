/** @module An adapter from outcome events to Powertools Tracer (X-Ray): an expected skip is annotated, not a fault. */
import type { Observer, OutcomeEvent, OutcomeStatus } from './events.js';

/**
 * The part of `@aws-lambda-powertools/tracer`'s `Tracer` used here: the current X-Ray (sub)segment. Typed as unknown
 * and read structurally, so racesafe needs neither the tracer nor `aws-xray-sdk-core` (a `Tracer` is assignable).
 */
export interface TracerLike {
  getSegment(): unknown;
}

export interface TracerObserverOptions {
  /**
   * The outcomes that are expected skips: their failed condition is DynamoDB saying "no" on purpose, not a fault.
   * @default ['stale', 'duplicate', 'rejected', 'unchanged', 'missing', 'busy']
   */
  readonly expected?: readonly OutcomeStatus[];
}

/** The fields of an X-Ray subsegment (aws-xray-sdk-core) read or written here. */
interface SubsegmentShape {
  name?: string;
  id?: string;
  fault?: boolean;
  error?: boolean;
  cause?: { exceptions?: Array<{ type?: string }> };
  aws?: { table_name?: string; operation?: string };
  annotations?: Record<string, unknown>;
  subsegments?: SubsegmentShape[];
  segment?: { exception?: { cause?: string } };
  addAnnotation?: (key: string, value: string | number | boolean) => void;
}

const defaultExpected: readonly OutcomeStatus[] = ['stale', 'duplicate', 'rejected', 'unchanged', 'missing', 'busy'];

/** The service exceptions a racesafe write uses to learn it lost a race (a condition, or one inside a transaction). */
const conditionExceptions = new Set(['ConditionalCheckFailedException', 'TransactionCanceledException']);

/**
 * Annotates racesafe's outcomes in X-Ray. The SDK's X-Ray instrumentation marks every 4xx as a fault of its
 * DynamoDB subsegment, so a `stale` or `duplicate` write (a ConditionalCheckFailed that racesafe turned into an
 * outcome) would show as a fault in the service map. For an expected outcome, this observer finds the newest DynamoDB
 * subsegment of the current segment that failed on a condition for the same table, clears its fault and error flags
 * and its cause, and annotates it with `racesafe_status` and `racesafe_op`; any other outcome (a conflict, an error)
 * is annotated and keeps its fault. Observers run right after the request, inside the handler's segment; with more
 * than X-Ray's streaming threshold (100) of subsegments in one invocation, older ones may already be sent and are
 * left as they are.
 *
 * @example
 * ```ts
 * import { Tracer } from '@aws-lambda-powertools/tracer';
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
 * import { defineTable, powertoolsTracer } from 'racesafe';
 *
 * const tracer = new Tracer({ serviceName: 'consumer' });
 * const client = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
 * const state = defineTable({ client, name: 'state', partitionKey: 'pk', observe: powertoolsTracer(tracer) });
 * ```
 */
export function powertoolsTracer(tracer: TracerLike, options: TracerObserverOptions = {}): Observer {
  const expected = new Set(options.expected ?? defaultExpected);
  return (event: OutcomeEvent) => {
    if (event.status === 'retried') return;
    const segment = tracer.getSegment() as SubsegmentShape | undefined;
    const subsegment = segment === undefined ? undefined : newestConditionFailure(segment, event.table);
    if (subsegment === undefined) return;
    subsegment.addAnnotation?.('racesafe_status', event.status);
    subsegment.addAnnotation?.('racesafe_op', event.op);
    if (!expected.has(event.status)) return;
    subsegment.fault = false;
    subsegment.error = false;
    delete subsegment.cause;
    // addError also copied the exception onto the root segment, from where it would flag the next parent that closes.
    const root = subsegment.segment;
    if (root !== undefined && root.exception?.cause === subsegment.id) delete root.exception;
  };
}

/** The newest not yet annotated DynamoDB subsegment under `segment` that failed on a condition for `table`. */
function newestConditionFailure(segment: SubsegmentShape, table: string): SubsegmentShape | undefined {
  const children = segment.subsegments ?? [];
  for (let index = children.length - 1; index >= 0; index--) {
    const child = children[index];
    if (child === undefined || child.name !== 'DynamoDB' || child.annotations?.racesafe_status !== undefined) continue;
    const failedOnCondition = child.cause?.exceptions?.some((exception) =>
      conditionExceptions.has(exception.type ?? ''),
    );
    if (failedOnCondition && (child.aws?.table_name === undefined || child.aws.table_name === table)) return child;
  }
  return undefined;
}
