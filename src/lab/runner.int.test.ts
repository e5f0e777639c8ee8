import { expect, inject, it } from 'vitest';
import { describeWhen } from '../../test/engine.js';
import { useLabTarget } from '../../test/lab.js';
import { runOnce } from './runner.js';
import { lostUpdate } from './scenarios/lost-update.js';
import { staleOverwrite } from './scenarios/stale-overwrite.js';
import { transfer } from './scenarios/transfer.js';

const skipReason = 'the replayed scenarios need transactions and streams';

describeWhen(inject('engine').name === 'dynamodb-local', skipReason)('replay', () => {
  const target = useLabTarget();

  for (const scenario of [lostUpdate, transfer, staleOverwrite]) {
    it(`${scenario.name}: the same seed gives the same request interleaving and the same verdict`, async () => {
      for (const seed of [3, 11]) {
        const first = await runOnce(target(), scenario, 'naive', seed);
        const second = await runOnce(target(), scenario, 'naive', seed);
        expect(first.traces.flat().length).toBeGreaterThan(0);
        expect(strip(second.traces)).toEqual(strip(first.traces));
        expect(second.verdict.anomalies).toEqual(first.verdict.anomalies);
      }
    });
  }

  it('different seeds give different interleavings', async () => {
    const traces = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      traces.add(JSON.stringify(strip((await runOnce(target(), lostUpdate, 'naive', seed)).traces)));
    }
    expect(traces.size).toBeGreaterThanOrEqual(4);
  });
});

/** Table names differ between runs (fresh tables); the interleaving is worker, operation, key and outcome. */
function strip(traces: readonly (readonly { worker: number; operation: string; key: unknown; outcome: string }[])[]) {
  return traces.map((trace) =>
    trace.map(({ worker, operation, key, outcome }) => ({ worker, operation, key, outcome })),
  );
}
