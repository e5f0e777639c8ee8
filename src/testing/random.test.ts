import { describe, expect, it } from 'vitest';
import { randomInt, seededRandom, shuffled } from './random.js';

describe('seededRandom', () => {
  it('repeats its sequence for one seed and differs between seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const seqA = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(seqA);
    expect(Array.from({ length: 20 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) and spreads over it', () => {
    const random = seededRandom(1);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)] += 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(800);
  });

  it('shuffles into a permutation and draws integers in range', () => {
    const random = seededRandom(3);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffled(random, items);
    expect(out).not.toEqual(items);
    expect([...out].sort((x, y) => x - y)).toEqual(items);
    for (let i = 0; i < 100; i++) expect(randomInt(random, 3)).toBeLessThan(3);
  });
});
