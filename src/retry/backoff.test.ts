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
});
