/** @module The batch state machine shared by both sources: invoke, read the response, then checkpoint, retry, bisect or discard. */
import { randomUUID } from 'node:crypto';
import type { Random } from '../random.js';
import { type BatchVerdict, readBatchResponse } from './batch-response.js';
import { lambdaContext } from './lambda-events.js';
import type { EventSourceFailure, ResolvedEventSourceOptions } from './options.js';
import type { StatsCollector } from './stats.js';

/** One record as the runner tracks it: Lambda's event record plus what ordering and failure reports need. */
export interface SourceRecord<R> {
  readonly sequenceNumber: string;
  /** The key Lambda keeps in order when `parallelizationFactor` > 1. */
  readonly partitionKey: string;
  /** Unique across the stream (Lambda's eventID for Kinesis, `shardId:sequenceNumber` for both here). */
  readonly id: string;
  readonly arrivalMs: number;
  readonly eventRecord: R;
}

/** Records of a batch still to be invoked, with what they have used of the retry budget. */
export interface PendingBatch<R> {
  readonly records: readonly SourceRecord<R>[];
  /** Invocations these records have had so far. */
  readonly invocations: number;
  /** Retries used (bisection does not use any: "splitting a batch does not count towards the retry quota"). */
  readonly retries: number;
}

/**
 * The transitions after one invocation of a batch of n records:
 *
 * ```
 * success ............................................ done[0, n)
 * partial at k ...................... done[0, k), then [k, n): retry, or discard when the retries are used up
 * failure, bisectOnError and n > 1 ................... [0, n/2) and [n/2, n), each with the same retry budget
 * failure otherwise .................................. [0, n): retry, or discard when the retries are used up
 * ```
 *
 * A partial failure is retried from k with or without bisectOnError (Lambda: "the batch is bisected at the returned
 * sequence number and Lambda retries only the remaining records"); it uses a retry, so a function that keeps failing
 * its first record still ends in `onFailure`.
 */
export const BatchStep = {
  /** The records are done: the checkpoint may move past them. */
  done: 'done',
  /** Invoke the records again. */
  invoke: 'invoke',
  /** Retries exhausted: the records go to onFailure and the shard moves on. */
  discard: 'discard',
} as const;

export type BatchStepName = (typeof BatchStep)[keyof typeof BatchStep];

/** One step of a plan, over the records [from, to) of the batch that was invoked. */
export interface PlannedStep {
  readonly step: BatchStepName;
  readonly from: number;
  readonly to: number;
  /** For `invoke`: the retries used after this step. */
  readonly retries: number;
}

/**
 * What to do after an invocation, in order (pure, so the rules are unit-tested without a stream).
 *
 * @example
 * ```ts
 * import { planAfterInvocation } from 'racesafe/testing';
 *
 * planAfterInvocation({ kind: 'partial', failedIndex: 2, reason: '' }, 4, 0, { maxRetries: 3, bisectOnError: false });
 * // [{ step: 'done', from: 0, to: 2, retries: 0 }, { step: 'invoke', from: 2, to: 4, retries: 1 }]
 * ```
 */
export function planAfterInvocation(
  verdict: BatchVerdict,
  size: number,
  retries: number,
  options: { readonly maxRetries: number; readonly bisectOnError: boolean },
): PlannedStep[] {
  const mayRetry = options.maxRetries === -1 || retries < options.maxRetries;
  const retryOrDiscard = (from: number): PlannedStep =>
    mayRetry
      ? { step: BatchStep.invoke, from, to: size, retries: retries + 1 }
      : { step: BatchStep.discard, from, to: size, retries };
  switch (verdict.kind) {
    case 'success':
      return [{ step: BatchStep.done, from: 0, to: size, retries }];
    case 'partial':
      return verdict.failedIndex === 0
        ? [retryOrDiscard(0)]
        : [{ step: BatchStep.done, from: 0, to: verdict.failedIndex, retries }, retryOrDiscard(verdict.failedIndex)];
    case 'failure': {
      if (options.bisectOnError && size > 1) {
        const middle = Math.ceil(size / 2);
        return [
          { step: BatchStep.invoke, from: 0, to: middle, retries },
          { step: BatchStep.invoke, from: middle, to: size, retries },
        ];
      }
      return [retryOrDiscard(0)];
    }
  }
}

/** What one lane of a shard needs to invoke the handler. */
export interface BatchProcessorContext<E, R, F> {
  readonly options: ResolvedEventSourceOptions<E, R, F>;
  readonly shardId: string;
  readonly streamArn: string;
  readonly toEvent: (records: R[]) => E;
  readonly stats: StatsCollector;
  /** The lane's own seeded source of fault draws: a lane runs serially, so its draws replay in the same order. */
  readonly random: Random;
  /** Called when records are done (processed, or discarded after onFailure), so the checkpoint can move. */
  readonly markDone: (records: readonly SourceRecord<R>[]) => void;
  /** True once the runner is stopping: no new invocation starts. */
  readonly stopping: () => boolean;
}

type HandlerResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Runs a batch to its end: invocations, retries, bisections, onFailure. Returns early (records left not done, so the
 * checkpoint stays before them) only when the runner stops.
 */
export async function processBatch<E, R, F>(
  records: readonly SourceRecord<R>[],
  context: BatchProcessorContext<E, R, F>,
): Promise<void> {
  // A stack, so the first half of a bisected batch runs before the second: records stay in sequence order.
  const work: PendingBatch<R>[] = [{ records, invocations: 0, retries: 0 }];
  while (work.length > 0 && !context.stopping()) {
    const batch = work.pop() as PendingBatch<R>;
    const { verdict, error } = await invokeWithFaults(batch.records, context);
    const invocations = batch.invocations + 1;
    if (verdict.kind === 'failure') context.stats.counts.failedInvocations += 1;
    if (verdict.kind === 'partial') context.stats.counts.partialFailures += 1;
    const steps = planAfterInvocation(verdict, batch.records.length, batch.retries, context.options);
    const next: PendingBatch<R>[] = [];
    for (const { step, from, to, retries } of steps) {
      const slice = batch.records.slice(from, to);
      if (step === BatchStep.done) context.markDone(slice);
      else if (step === BatchStep.invoke) next.push({ records: slice, invocations, retries });
      else {
        await discard(slice, invocations, verdict, error, context);
        context.markDone(slice);
      }
    }
    if (next.length === 2) context.stats.counts.bisections += 1;
    work.push(...next.reverse());
  }
}

async function discard<E, R, F>(
  records: readonly SourceRecord<R>[],
  invocations: number,
  verdict: BatchVerdict,
  error: unknown,
  context: BatchProcessorContext<E, R, F>,
): Promise<void> {
  context.stats.counts.recordsSentToOnFailure += records.length;
  if (context.options.onFailure === undefined) return;
  const first = records[0] as SourceRecord<R>;
  const last = records[records.length - 1] as SourceRecord<R>;
  const failure: EventSourceFailure<R> = {
    condition: 'RetryAttemptsExhausted',
    reason: verdict.kind === 'success' ? 'success' : verdict.reason,
    error,
    approximateInvokeCount: invocations,
    shardId: context.shardId,
    streamArn: context.streamArn,
    startSequenceNumber: first.sequenceNumber,
    endSequenceNumber: last.sequenceNumber,
    approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
    approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
    batchSize: records.length,
    records: records.map((record) => record.eventRecord),
  };
  await context.options.onFailure(failure);
}

/** One invocation as Lambda would make it, with the seeded faults of the options layered on. */
async function invokeWithFaults<E, R, F>(
  records: readonly SourceRecord<R>[],
  context: BatchProcessorContext<E, R, F>,
): Promise<{ verdict: BatchVerdict; error: unknown }> {
  const { faults } = context.options;
  const { counts } = context.stats;
  // Always three draws per invocation, so one fault's probability does not shift the others' draws.
  const concurrent = context.random() < faults.concurrentInvocation;
  const lost = context.random() < faults.lostResponse;
  const duplicate = context.random() < faults.duplicateDelivery;

  const primary = invoke(records, context);
  // The copy starts before the primary's result is awaited, so both are in flight together.
  const copy = concurrent ? invoke(records, context) : undefined;
  if (copy) counts.injected.concurrentInvocations += 1;
  const result = await primary;
  await copy; // Its result is not Lambda's to read: it stands for the invocation whose response was lost.

  let verdict: BatchVerdict = result.ok
    ? readBatchResponse(
        result.value,
        records.map((record) => record.sequenceNumber),
      )
    : { kind: 'failure', reason: `the function threw: ${errorMessage(result.error)}` };
  if (verdict.kind === 'success' && lost) {
    counts.injected.lostResponses += 1;
    verdict = { kind: 'failure', reason: 'injected fault: the response was lost after the function succeeded' };
  }
  if (verdict.kind === 'success' && duplicate) {
    counts.injected.duplicateDeliveries += 1;
    await invoke(records, context); // A lost checkpoint: the same batch again; its result changes nothing.
  }
  return { verdict, error: result.ok ? undefined : result.error };
}

/** Calls the handler with a fresh copy of the event, so a handler that mutates its event cannot affect a retry. */
function invoke<E, R, F>(records: readonly SourceRecord<R>[], context: BatchProcessorContext<E, R, F>) {
  context.stats.invocation(records.map((record) => record.id));
  const event = context.toEvent(records.map((record) => structuredClone(record.eventRecord)));
  return callHandler(context.options.handler, event, lambdaContext(randomUUID(), context.options.timeoutMs));
}

/** Awaits a handler that returns a promise or calls its callback, as the Node.js runtime does. */
function callHandler<E, F>(
  handler: ResolvedEventSourceOptions<E, unknown, F>['handler'],
  event: E,
  lambda: ReturnType<typeof lambdaContext>,
): Promise<HandlerResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: HandlerResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    try {
      const returned: unknown = handler(event, lambda, (error, value) =>
        settle(error === undefined || error === null ? { ok: true, value } : { ok: false, error }),
      );
      if (isThenable(returned)) {
        returned.then(
          (value) => settle({ ok: true, value }),
          (error: unknown) => settle({ ok: false, error }),
        );
      } else if (handler.length < 3) {
        settle({ ok: true, value: returned }); // A synchronous handler that takes no callback has answered.
      }
    } catch (error) {
      settle({ ok: false, error });
    }
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
