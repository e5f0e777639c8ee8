/** @module Collapse: of one key's records in a batch, only the highest version needs a state write. */
import { compareVersions, type Version } from '../table.js';

/** A record passed over by collapse, and the record of its key that will be handled instead. */
export interface Superseded<T> {
  readonly item: T;
  readonly by: T;
  /** `stale` when `by` has a higher version, `duplicate` when the same version. */
  readonly status: 'stale' | 'duplicate';
}

/**
 * Keeps, per key, the record with the highest version (the last one on a tie, as it was delivered last). A key whose
 * versions cannot be ordered (a number beside a string) is kept whole: the writes themselves will judge.
 */
export function collapseByKey<T extends { readonly key: string; readonly version: Version }>(
  items: readonly T[],
): { kept: T[]; superseded: Superseded<T>[] } {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const group = byKey.get(item.key);
    if (group === undefined) byKey.set(item.key, [item]);
    else group.push(item);
  }
  const winners = new Set<T>();
  const superseded: Superseded<T>[] = [];
  for (const group of byKey.values()) {
    let best = group[0] as T;
    let orderable = true;
    for (const item of group) {
      const order = compareVersions(item.version, best.version);
      if (order === undefined) orderable = false;
      else if (order >= 0) best = item;
    }
    if (!orderable) {
      for (const item of group) winners.add(item);
      continue;
    }
    winners.add(best);
    for (const item of group) {
      if (item === best) continue;
      const status = compareVersions(item.version, best.version) === 0 ? 'duplicate' : 'stale';
      superseded.push({ item, by: best, status });
    }
  }
  return { kept: items.filter((item) => winners.has(item)), superseded };
}
