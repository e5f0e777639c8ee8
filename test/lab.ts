/** @module Lab test fixtures: a lab target on the project's shared engine plus kinesalite, and the 50-seed scenario test. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type LabTarget, missingRequirement, runLab } from '../src/lab/runner.js';
import type { Scenario } from '../src/lab/scenario.js';
import { type KinesisEngine, startKinesis } from '../src/testing/kinesis-engine.js';
import { describeWhen, useEngine } from './engine.js';

/** A lab target for this test file; call inside a describe or at the top level. */
export function useLabTarget(): () => LabTarget {
  const engine = useEngine();
  let kinesis: KinesisEngine | undefined;
  beforeAll(async () => {
    kinesis = await startKinesis();
  });
  afterAll(() => kinesis?.stop());
  return () => ({ ...engine, kinesis });
}

/**
 * The lab must find the race it claims and the fix must close it: over `seeds` seeds the safe variant has no anomaly
 * and the naive one shows anomalies on most seeds. Runs in the DynamoDB Local project only (it is long; the dynalite
 * project covers what dynalite supports through the primitives' own tests).
 */
export function scenarioHoldsOverSeeds(scenario: Scenario, seeds = 50): void {
  const onDynamoDBLocal = inject('engine').name === 'dynamodb-local';
  const skipReason = 'long, so runs once, in the dynamodb-local project';
  describeWhen(onDynamoDBLocal, skipReason)(`lab scenario ${scenario.name} over ${seeds} seeds`, () => {
    const target = useLabTarget();
    const seedList = Array.from({ length: seeds }, (_, i) => i + 1);

    it('runs on DynamoDB Local with kinesalite', () => {
      expect(missingRequirement(scenario, target())).toBeUndefined();
    });

    it('safe: zero anomalies on every seed', { timeout: 300_000 }, async () => {
      const [safe] = await runLab(target(), { scenarios: [scenario], seeds: seedList, variants: ['safe'] });
      expect(safe?.runs).toBe(seeds);
      expect(safe?.example).toEqual([]);
      expect(safe?.anomalies).toBe(0);
    });

    it('naive: anomalies on most seeds (the lab finds the race)', { timeout: 300_000 }, async () => {
      const [naive] = await runLab(target(), { scenarios: [scenario], seeds: seedList, variants: ['naive'] });
      expect(naive?.runs).toBe(seeds);
      expect(naive?.anomalies).toBeGreaterThan(seeds / 2);
    });
  });
}
