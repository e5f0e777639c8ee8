/** @module Per-key lanes: one key's records run serially in order, lanes run in parallel, a failure stops only its lane. */

/** How each item of a lane ended. */
export type LaneResult = 'handled' | 'failed' | 'notAttempted';

/**
 * Runs each lane's items in order, up to `concurrency` lanes at once. When an item fails (its work returns false or
 * throws), the rest of its lane is not attempted: running a key's later record after an earlier one failed would
 * apply them out of order. Other lanes carry on.
 *
 * @returns every item's result, in no particular order.
 */
export async function runLanes<T>(
  lanes: Iterable<readonly T[]>,
  concurrency: number,
  work: (item: T) => Promise<boolean>,
): Promise<Map<T, LaneResult>> {
  const results = new Map<T, LaneResult>();
  const pending = [...lanes];
  let next = 0;
  const runLane = async (lane: readonly T[]): Promise<void> => {
    let stopped = false;
    for (const item of lane) {
      if (stopped) {
        results.set(item, 'notAttempted');
        continue;
      }
      let ok: boolean;
      try {
        ok = await work(item);
      } catch {
        ok = false;
      }
      results.set(item, ok ? 'handled' : 'failed');
      stopped = !ok;
    }
  };
  const worker = async (): Promise<void> => {
    // Single-threaded event loop: taking `next` and incrementing it cannot interleave with another worker.
    while (next < pending.length) {
      const lane = pending[next] as readonly T[];
      next += 1;
      await runLane(lane);
    }
  };
  const workers = Math.max(1, Math.min(concurrency, pending.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Groups items into lanes by key, keeping each lane in the items' order. */
export function groupIntoLanes<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const lanes = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const lane = lanes.get(key);
    if (lane === undefined) lanes.set(key, [item]);
    else lane.push(item);
  }
  return lanes;
}
