import { describe, expect, it } from 'vitest';
import { BatchStep, planAfterInvocation } from './batch-processor.js';

const noBisect = { maxRetries: 2, bisectOnError: false };
const bisect = { maxRetries: 2, bisectOnError: true };
const failure = { kind: 'failure', reason: 'boom' } as const;

describe('planAfterInvocation', () => {
  it('marks a successful batch done', () => {
    expect(planAfterInvocation({ kind: 'success' }, 5, 1, noBisect)).toEqual([
      { step: BatchStep.done, from: 0, to: 5, retries: 1 },
    ]);
  });

  it('after a partial failure at k: records before k done, the rest retried with one more retry used', () => {
    expect(planAfterInvocation({ kind: 'partial', failedIndex: 3, reason: '' }, 5, 0, bisect)).toEqual([
      { step: BatchStep.done, from: 0, to: 3, retries: 0 },
      { step: BatchStep.invoke, from: 3, to: 5, retries: 1 },
    ]);
  });

  it('a partial failure at the first record retries the whole batch, and is discarded once retries are used up', () => {
    const partial = { kind: 'partial', failedIndex: 0, reason: '' } as const;
    expect(planAfterInvocation(partial, 4, 1, noBisect)).toEqual([
      { step: BatchStep.invoke, from: 0, to: 4, retries: 2 },
    ]);
    expect(planAfterInvocation(partial, 4, 2, noBisect)).toEqual([
      { step: BatchStep.discard, from: 0, to: 4, retries: 2 },
    ]);
  });

  it('retries a failed batch until maxRetries, then discards it', () => {
    expect(planAfterInvocation(failure, 3, 0, noBisect)).toEqual([
      { step: BatchStep.invoke, from: 0, to: 3, retries: 1 },
    ]);
    expect(planAfterInvocation(failure, 3, 2, noBisect)).toEqual([
      { step: BatchStep.discard, from: 0, to: 3, retries: 2 },
    ]);
  });

  it('retries forever with maxRetries -1', () => {
    expect(planAfterInvocation(failure, 1, 10_000, { maxRetries: -1, bisectOnError: false })).toEqual([
      { step: BatchStep.invoke, from: 0, to: 1, retries: 10_001 },
    ]);
  });

  it('bisects a failed batch into halves (the first one larger) without using a retry', () => {
    expect(planAfterInvocation(failure, 5, 2, bisect)).toEqual([
      { step: BatchStep.invoke, from: 0, to: 3, retries: 2 },
      { step: BatchStep.invoke, from: 3, to: 5, retries: 2 },
    ]);
  });

  it('does not bisect a single record: it is retried, then discarded', () => {
    expect(planAfterInvocation(failure, 1, 0, bisect)).toEqual([
      { step: BatchStep.invoke, from: 0, to: 1, retries: 1 },
    ]);
    expect(planAfterInvocation(failure, 1, 2, bisect)).toEqual([
      { step: BatchStep.discard, from: 0, to: 1, retries: 2 },
    ]);
  });
});
