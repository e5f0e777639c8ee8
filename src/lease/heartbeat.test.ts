import { describe, expect, it } from 'vitest';
import { heartbeatInterval } from './heartbeat.js';

describe('heartbeatInterval', () => {
  it('defaults to a third of the lease, so a renewal has two thirds of a lease to land', () => {
    expect(heartbeatInterval(undefined, 300)).toBe(100);
    expect(heartbeatInterval(undefined, 2)).toBe(1);
  });

  it('0 turns heartbeats off; an interval at or above the lease, or not whole ms, is a typed error naming the field', () => {
    expect(heartbeatInterval(0, 300)).toBe(0);
    for (const bad of [300, 301, -1, 1.5, Number.NaN]) {
      expect(() => heartbeatInterval(bad, 300)).toThrow(expect.objectContaining({ code: 'validation.invalidOption' }));
      expect(() => heartbeatInterval(bad, 300)).toThrow(/heartbeatMs/);
    }
  });
});
