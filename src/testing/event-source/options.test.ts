import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../../errors.js';
import { resolveEventSourceOptions } from './options.js';

const handler = async () => undefined;

describe('resolveEventSourceOptions', () => {
  it('applies the documented defaults', () => {
    expect(resolveEventSourceOptions({ handler }, 'run')).toEqual({
      handler,
      batchSize: 100,
      parallelizationFactor: 1,
      maxRetries: 3,
      bisectOnError: false,
      onFailure: undefined,
      startingPosition: 'TRIM_HORIZON',
      pollIntervalMs: 20,
      timeoutMs: 60_000,
      faults: { seed: 1, duplicateDelivery: 0, lostResponse: 0, concurrentInvocation: 0 },
    });
  });

  it('keeps explicit zeros instead of replacing them with defaults', () => {
    const resolved = resolveEventSourceOptions(
      { handler, maxRetries: 0, pollIntervalMs: 0, faults: { seed: 0 } },
      'run',
    );
    expect(resolved).toMatchObject({ maxRetries: 0, pollIntervalMs: 0, faults: { seed: 0 } });
  });

  it.each([
    [{ batchSize: 0 }, 'run.batchSize'],
    [{ batchSize: 1.5 }, 'run.batchSize'],
    [{ parallelizationFactor: 11 }, 'run.parallelizationFactor'],
    [{ maxRetries: -2 }, 'run.maxRetries'],
    [{ startingPosition: 'AT_TIMESTAMP' }, 'run.startingPosition'],
    [{ faults: { duplicateDelivery: -0.1 } }, 'run.faults.duplicateDelivery'],
    [{ faults: { concurrentInvocation: Number.NaN } }, 'run.faults.concurrentInvocation'],
    [{ faults: { lostresponse: 0.5 } }, 'run.faults.lostresponse'],
  ])('rejects %j, naming %s', (options, field) => {
    let caught: unknown;
    try {
      resolveEventSourceOptions({ handler, ...(options as object) }, 'run');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RacesafeError);
    expect(caught).toMatchObject({ code: 'validation.invalidOption', details: { field } });
  });
});
