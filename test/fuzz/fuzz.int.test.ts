/**
 * The fuzz suite of issue 12 at CI size: a fixed seed and a bounded number of generated calls against the project's
 * engine; any call that leaked to the SDK or DynamoDB, crashed, or stored something other than what was given fails.
 * The stream part runs generated batches through the three stream handlers and classifies every record.
 * `npm run fuzz -- --runs 5000 --seed 7` runs both at any size and prints the buckets.
 */
import { expect, inject, it } from 'vitest';
import { describeWhen, useEngine } from '../engine.js';
import { failing, formatReport, runFuzz } from './oracle.js';
import { failingStream, formatStreamReport, runStreamFuzz } from './stream-oracle.js';

const engine = useEngine();

describeWhen(inject('engine').name === 'dynamodb-local', 'DynamoDB Local is the oracle of what DynamoDB accepts')(
  'fuzz: every call stored exactly or refused before sending',
  () => {
    it('classifies 300 generated calls (seed 12) and finds none leaked, crashed or stored otherwise', async () => {
      const report = await runFuzz(engine, { seed: 12, runs: 300 });
      const bad = failing.reduce((sum, bucket) => sum + report.counts[bucket], 0);
      expect(bad, formatReport(report)).toBe(0);
      // The generators must reach both sides: stored input and refused input.
      expect(report.counts['stored equal']).toBeGreaterThan(30);
      expect(report.counts['refused before sending']).toBeGreaterThan(30);
    }, 240_000);

    it('classifies every record of 250 generated stream batches (seed 12): none lost, crashed, leaked or stored otherwise', async () => {
      const report = await runStreamFuzz(engine, { seed: 12, batches: 250 });
      const bad = failingStream.reduce((sum, bucket) => sum + report.counts[bucket], 0);
      expect(bad, formatStreamReport(report)).toBe(0);
      // The generators must reach every side: stored, poisoned, reported failed, and options refused.
      expect(report.counts['stored equal']).toBeGreaterThan(150);
      expect(report.counts['poisoned with a reason']).toBeGreaterThan(150);
      expect(report.counts['reported failed']).toBeGreaterThan(50);
      expect(report.counts['options refused']).toBeGreaterThan(0);
    }, 120_000);
  },
);
