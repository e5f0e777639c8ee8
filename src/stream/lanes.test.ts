import { describe, expect, it } from 'vitest';
import { groupIntoLanes, runLanes } from './lanes.js';

/** Lets other tasks run: a few turns of the event loop, no wall-clock time involved. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('runLanes', () => {
  it("runs a lane's items one at a time, in order, even when earlier items take longer", async () => {
    const log: string[] = [];
    // Earlier items yield more turns: run concurrently, a1 would finish after a2 and a3.
    const turns: Record<string, number> = { a1: 6, a2: 3, a3: 1, b1: 5, b2: 1 };
    await runLanes(
      [
        ['a1', 'a2', 'a3'],
        ['b1', 'b2'],
      ],
      8,
      async (item) => {
        log.push(`start ${item}`);
        await yieldTurns(turns[item] ?? 0);
        log.push(`end ${item}`);
        return true;
      },
    );
    const lane = (prefix: string) => log.filter((entry) => entry.split(' ')[1]?.startsWith(prefix));
    expect(lane('a')).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(lane('b')).toEqual(['start b1', 'end b1', 'start b2', 'end b2']);
    // The lanes overlapped: b1 started before a1 ended.
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('runs lanes in parallel, never more than `concurrency` at once', async () => {
    const lanes = Array.from({ length: 10 }, (_, lane) => [`${lane}-1`, `${lane}-2`]);
    let inFlight = 0;
    let most = 0;
    const results = await runLanes(lanes, 3, async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await yieldTurns(2);
      inFlight -= 1;
      return true;
    });
    expect(most).toBe(3);
    expect([...results.values()].every((result) => result === 'handled')).toBe(true);
    expect(results.size).toBe(20);
  });

  it('stops only the failing lane: its later items are not attempted, other lanes finish', async () => {
    const called: string[] = [];
    const results = await runLanes(
      [
        ['a1', 'a2', 'a3', 'a4'],
        ['b1', 'b2', 'b3'],
      ],
      2,
      async (item) => {
        called.push(item);
        await yieldTurns(1);
        return item !== 'a2';
      },
    );
    expect(called).not.toContain('a3');
    expect(called).not.toContain('a4');
    expect(Object.fromEntries(results)).toEqual({
      a1: 'handled',
      a2: 'failed',
      a3: 'notAttempted',
      a4: 'notAttempted',
      b1: 'handled',
      b2: 'handled',
      b3: 'handled',
    });
  });

  it('counts a thrown error as a failure of that item', async () => {
    const results = await runLanes([['x', 'y']], 1, async (item) => {
      if (item === 'x') throw new Error('boom');
      return true;
    });
    expect(results.get('x')).toBe('failed');
    expect(results.get('y')).toBe('notAttempted');
  });

  it('returns no results for no lanes', async () => {
    expect((await runLanes([], 4, async () => true)).size).toBe(0);
  });
});

describe('groupIntoLanes', () => {
  it('groups by key and keeps the order of each key', () => {
    const lanes = groupIntoLanes(['a1', 'b1', 'a2', 'c1', 'b2'], (item) => item.charAt(0));
    expect([...lanes.entries()]).toEqual([
      ['a', ['a1', 'a2']],
      ['b', ['b1', 'b2']],
      ['c', ['c1']],
    ]);
  });
});
