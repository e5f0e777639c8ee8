import { describe, expect, it } from 'vitest';
import { collapseByKey } from './collapse.js';

const item = (key: string, version: number | string, tag: string) => ({ key, version, tag });

describe('collapseByKey', () => {
  it('keeps the highest version of each key, in batch order, and says what superseded the rest', () => {
    const a1 = item('a', 1, 'a1');
    const a3 = item('a', 3, 'a3');
    const a2 = item('a', 2, 'a2');
    const b1 = item('b', 1, 'b1');
    const { kept, superseded } = collapseByKey([a1, b1, a3, a2]);
    expect(kept).toEqual([b1, a3]);
    expect(superseded).toEqual([
      { item: a1, by: a3, status: 'stale' },
      { item: a2, by: a3, status: 'stale' },
    ]);
  });

  it('keeps the last of equal versions and reports the earlier one as a duplicate', () => {
    const first = item('a', 5, 'first');
    const second = item('a', 5, 'second');
    const { kept, superseded } = collapseByKey([first, second]);
    expect(kept).toEqual([second]);
    expect(superseded).toEqual([{ item: first, by: second, status: 'duplicate' }]);
  });

  it('orders padded string versions as strings', () => {
    const low = item('a', '0009', 'low');
    const high = item('a', '0010', 'high');
    expect(collapseByKey([high, low]).kept).toEqual([high]);
  });

  it('keeps every record of a key whose versions cannot be ordered (a number beside a string)', () => {
    const items = [item('a', 2, 'n'), item('a', '0003', 's')];
    expect(collapseByKey(items)).toEqual({ kept: items, superseded: [] });
  });
});
