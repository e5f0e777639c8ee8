import { describe, expect, it } from 'vitest';
import { runPipelineCommand } from '../../cli/pipeline.js';
import type { CommitLogEntry } from '../../testing/commit-log.js';
import { seededRandom } from '../../testing/random.js';
import { judgePipeline } from './verdict.js';
import { highestVersions, producerInvocations } from './workload.js';

const commit = (key: string, version: number): CommitLogEntry => ({
  eventName: 'MODIFY',
  sequenceNumber: '1',
  keys: { key },
  newImage: { key, version },
  oldImage: undefined,
});

describe('judgePipeline', () => {
  const produced = new Map([['a', 3]]);

  it('holds when the key ends at its highest version and the log only goes up', () => {
    const verdict = judgePipeline(produced, new Map([['a', 3]]), [commit('a', 1), commit('a', 3)]);
    expect(verdict).toEqual({ holds: true, keysWrong: 0, regressions: 0, duplicateStreamRecords: 0, examples: [] });
  });

  it('sees a regression that the final state hides (3 -> 2 -> 3 is also a duplicate of 3)', () => {
    const verdict = judgePipeline(produced, new Map([['a', 3]]), [commit('a', 3), commit('a', 2), commit('a', 3)]);
    expect(verdict).toMatchObject({ holds: false, keysWrong: 0, regressions: 1, duplicateStreamRecords: 1 });
    expect(verdict.examples[0]).toBe('a: version 2 committed after version 3');
  });

  it('counts a key left behind', () => {
    const verdict = judgePipeline(produced, new Map([['a', 2]]), [commit('a', 2)]);
    expect(verdict).toMatchObject({ holds: false, keysWrong: 1 });
  });
});

describe('producerInvocations', () => {
  it('gives each key versions 1..n in order, and retries publish a chunk again after newer chunks', () => {
    const invocations = producerInvocations(seededRandom(3), { events: 2000, keys: 10, chunk: 100, retryRate: 0.5 });
    const first = invocations.filter((invocation) => !invocation.retry).flatMap((invocation) => invocation.changes);
    expect(first).toHaveLength(2000);
    for (let key = 0; key < 10; key++) {
      const versions = first.filter((change) => change.key === `device-000${key}`).map((change) => change.version);
      expect(versions).toEqual(versions.map((_, index) => index + 1));
    }
    expect(invocations.some((invocation) => invocation.retry)).toBe(true);
    expect([...highestVersions(invocations).values()].reduce((sum, version) => sum + version, 0)).toBe(2000);
  });
});

describe('racesafe pipeline argv', () => {
  it('exits 2 on bad usage, before starting any engine', async () => {
    for (const argv of [['--variant', 'fast'], ['--events', '0'], ['--keys', '10', '--events', '5'], ['--nope']]) {
      expect(await runPipelineCommand(argv), argv.join(' ')).toBe(2);
    }
  });
});
