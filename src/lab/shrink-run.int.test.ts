import { expect, inject, it } from 'vitest';
import { describeWhen } from '../../test/engine.js';
import { useLabTarget } from '../../test/lab.js';
import { runLab } from './runner.js';
import { lostUpdate } from './scenarios/lost-update.js';
import { oversell } from './scenarios/oversell.js';

const skipReason = 'the shrunk scenarios need transactions';

describeWhen(inject('engine').name === 'dynamodb-local', skipReason)('the lab shrinks the first failing run', () => {
  const target = useLabTarget();

  it('to a run with fewer requests that still has an anomaly, the same way for the same seeds', async () => {
    const once = () => runLab(target(), { scenarios: [lostUpdate, oversell], seeds: [1, 2, 3], variants: ['naive'] });
    const first = await once();
    for (const summary of first) {
      const shrunk = summary.shrunk;
      expect(summary.anomalies, summary.name).toBeGreaterThan(0);
      expect(shrunk?.trials, summary.name).toBeGreaterThan(0);
      expect(shrunk?.trials, summary.name).toBeLessThanOrEqual(10);
      expect(shrunk?.originalRequests, summary.name).toBe(summary.timeline.length);
      expect(shrunk?.requests, summary.name).toBeLessThan(shrunk?.originalRequests ?? 0);
      expect(shrunk?.timeline.length, summary.name).toBe(shrunk?.requests);
      expect(shrunk?.size?.to, summary.name).toBeLessThan(shrunk?.size?.from ?? 0);
      expect(shrunk?.anomalies.length, summary.name).toBeGreaterThan(0);
    }
    const second = await once();
    expect(second.map(minimal)).toEqual(first.map(minimal));
  });
});

/** The minimal run without its fresh table names. */
function minimal(summary: { readonly shrunk: unknown }): string {
  return JSON.stringify(summary.shrunk).replace(/"table":"[^"]*"/g, '"table":"t"');
}
