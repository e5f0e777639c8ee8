import { describe, expect, it } from 'vitest';
import { compare, median, medianInterval, quantile, type Round } from './harness.js';

const round = (opsPerSecond: number): Round => ({ ops: 1, ms: 1000 / opsPerSecond, opsPerSecond, cpuMicrosPerOp: 1 });

describe('compare', () => {
  it('compares rounds pair by pair, so drift and a single hiccup do not move the ratio', async () => {
    // The machine's speed swings fivefold between pairs; the candidate is always 90% of its partner, except one round
    // that hit a pause. Comparing medians per variant would say 0.2 here (1000 vs 5000); the paired ratios say 0.9.
    const speeds = [1000, 5000, 5000];
    const candidate = [900, 4500, 1000];
    let b = 0;
    let c = 0;
    const result = await compare({
      name: 'drift',
      candidate: { name: 'c', round: async () => round(candidate[c++] as number) },
      baseline: { name: 'b', round: async () => round(speeds[b++] as number) },
      rounds: 3,
      target: 0.95,
      warmUp: 0,
    });
    expect(result.ratio).toBeCloseTo(0.9, 6);
    expect(result.ratioSpread[0]).toBeCloseTo(0.55, 6);
    expect(result.ratioSpread[1]).toBeCloseTo(0.9, 6);
    expect(result.candidateOpsPerSecond).toBe(1000);
    expect(result.baselineOpsPerSecond).toBe(5000);
  });

  it('reports the candidate equal to itself as a ratio of 1 whatever the drift', async () => {
    const speeds = [1000, 3000, 1500, 2500, 900, 2000, 1200, 2800];
    let call = 0;
    // Both variants of one pair see the same speed: two calls per pair.
    const sameAsPartner = async () => round(speeds[Math.floor(call++ / 2)] as number);
    const result = await compare({
      name: 'self',
      candidate: { name: 'c', round: sameAsPartner },
      baseline: { name: 'b', round: sameAsPartner },
      rounds: 4,
      target: 0.95,
      warmUp: 0,
    });
    expect(result.ratio).toBe(1);
    expect(result.ratioSpread).toEqual([1, 1]);
  });

  it('leaves the warm-up pairs out of the result', async () => {
    // A cold engine: the first pair is slow and lopsided; only the two measured pairs count.
    const baseline = [100, 1000, 1000];
    const candidate = [10, 1000, 1000];
    let b = 0;
    let c = 0;
    const result = await compare({
      name: 'warm-up',
      candidate: { name: 'c', round: async () => round(candidate[c++] as number) },
      baseline: { name: 'b', round: async () => round(baseline[b++] as number) },
      rounds: 2,
      target: 0.95,
      warmUp: 1,
    });
    expect(result.ratio).toBe(1);
    expect([b, c]).toEqual([3, 3]);
  });
});

describe('quantile', () => {
  it('interpolates between neighbours', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10], 0.75)).toBe(10);
    expect(() => quantile([], 0.5)).toThrow();
  });
});

describe('medianInterval', () => {
  it('bounds the median by the order statistics of a 95% interval', () => {
    // 100 values 1..100: ranks round(50 - 9.8) = 40 and round(51 + 9.8) = 61.
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(medianInterval(values)).toEqual([40, 61]);
  });

  it('narrows as the number of pairs grows, and spans everything for a handful', () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => 1 + (((i * 37) % 21) - 10) / 100);
    const width = (n: number) => {
      const [low, high] = medianInterval(noisy(n));
      return high - low;
    };
    expect(width(400)).toBeLessThan(width(40));
    expect(medianInterval([3, 1, 2])).toEqual([1, 3]);
    expect(() => medianInterval([])).toThrow();
  });
});
