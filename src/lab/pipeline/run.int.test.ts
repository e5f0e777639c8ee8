import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWhen, useEngine } from '../../../test/engine.js';
import { type KinesisEngine, startKinesis } from '../../testing/kinesis-engine.js';
import { type PipelineResult, runPipeline } from './run.js';

describeWhen(inject('engine').name === 'dynamodb-local', 'long (2,000 events per run), so runs once')(
  'racesafe pipeline at its defaults',
  () => {
    const engine = useEngine();
    let kinesis: KinesisEngine;
    beforeAll(async () => {
      kinesis = await startKinesis();
    });
    afterAll(() => kinesis.stop());
    const run = (variant: 'naive' | 'safe', seed: number) =>
      runPipeline(
        { endpoint: engine.endpoint, dynamodb: engine.dynamodb, streams: engine.streams, kinesis: kinesis.client },
        { variant, seed },
      );

    it('naive: an older version overwrites a newer one (on the stream, and in the final state) on most seeds', {
      timeout: 900_000,
    }, async () => {
      const results: PipelineResult[] = [];
      for (const seed of [1, 2, 3]) results.push(await run('naive', seed));
      const verdicts = JSON.stringify(results.map((r) => r.verdict));
      const regressed = results.filter((result) => result.verdict.regressions > 0);
      expect(regressed.length, verdicts).toBeGreaterThanOrEqual(2);
      // The story's end state, not only its stream: an older version was the key's last write.
      const endWrong = results.filter((result) => result.verdict.keysWrong > 0);
      expect(endWrong.length, verdicts).toBeGreaterThanOrEqual(2);
      for (const result of results) {
        // Redeliveries are records, and add up: every delivery is a first delivery or a redelivery.
        expect(result.source.recordsDelivered - result.source.redeliveries).toBe(result.consumed);
      }
    });

    it('safe: the same workload and faults hold', { timeout: 600_000 }, async () => {
      const result = await run('safe', 1);
      expect(result.source.redeliveries).toBeGreaterThan(0);
      expect(result.verdict).toMatchObject({ holds: true, regressions: 0, keysWrong: 0, duplicateStreamRecords: 0 });
      expect(result.source.recordsDelivered - result.source.redeliveries).toBe(result.consumed);
    });
  },
);
