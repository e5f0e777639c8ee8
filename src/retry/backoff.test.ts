import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/random.js';
import { backoffDelay, isConditionalCheckFailed, isThrottling } from './backoff.js';

describe('backoffDelay', () => {
  it('stays within [0, min(cap, base * 2^retry))', () => {
    const random = seededRandom(5);
    for (let retry = 0; retry < 12; retry++) {
      const window = Math.min(500, 10 * 2 ** retry);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(retry, { baseMs: 10, capMs: 500 }, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(window);
      }
    }
  });

  it('uses the whole window (full jitter), not a fixed step', () => {
    expect(backoffDelay(3, { baseMs: 10, capMs: 1000 }, () => 0)).toBe(0);
    expect(backoffDelay(3, { baseMs: 10, capMs: 1000 }, () => 0.999)).toBe(79);
    expect(backoffDelay(30, { baseMs: 10, capMs: 1000 }, () => 0.5)).toBe(500);
  });
});

describe('error classification', () => {
  it('recognises throttling and condition failures by the service exception name', () => {
    expect(isThrottling({ name: 'ProvisionedThroughputExceededException' })).toBe(true);
    expect(isThrottling({ name: 'ThrottlingException' })).toBe(true);
    expect(isThrottling({ name: 'ConditionalCheckFailedException' })).toBe(false);
    expect(isThrottling(new Error('x'))).toBe(false);
    expect(isThrottling(undefined)).toBe(false);
    expect(isConditionalCheckFailed({ name: 'ConditionalCheckFailedException' })).toBe(true);
  });

  it("uses the SDK's own classifier: its exception classes, HTTP 429 and the throttling trait, not a list of names", () => {
    const $metadata = { httpStatusCode: 400 };
    expect(isThrottling(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata }))).toBe(true);
    expect(isThrottling(new RequestLimitExceeded({ message: 'account limit', $metadata }))).toBe(true);
    // Names that the old four-name list missed, but the SDK's retry strategy treats as throttling.
    expect(isThrottling({ name: 'TooManyRequestsException', $metadata })).toBe(true);
    expect(isThrottling({ name: 'SomethingNew', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottling({ name: 'SomethingNew', $metadata, $retryable: { throttling: true } })).toBe(true);
    expect(isThrottling(new ConditionalCheckFailedException({ message: 'no', $metadata }))).toBe(false);
    expect(isThrottling({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } })).toBe(false);
  });
});
