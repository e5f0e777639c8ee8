/** @module The pipeline's verdict (pure): the final state and the state table's commit log against what was produced. */
import type { CommitLogEntry } from '../../testing/commit-log.js';

export interface PipelineVerdict {
  /** Every key ends at its highest produced version, no version went down, no duplicate wrote a stream record. */
  readonly holds: boolean;
  /** Keys whose stored version is not the highest produced. */
  readonly keysWrong: number;
  /** Commits of a lower version after a higher one of the same key (the story's 41 after 42). */
  readonly regressions: number;
  /** Commits of a version of a key that was committed before: a duplicate that downstream readers see twice. */
  readonly duplicateStreamRecords: number;
  /** The first few anomalies, in words. */
  readonly examples: readonly string[];
}

/**
 * Judges a run. The final state alone can hide a regression that a later write repaired (42 → 41 → 42), and it never
 * shows a duplicate write, so the commit log (the table's stream, per key in commit order) is read as well.
 */
export function judgePipeline(
  produced: ReadonlyMap<string, number>,
  stored: ReadonlyMap<string, number | undefined>,
  log: readonly CommitLogEntry[],
  maxExamples = 5,
): PipelineVerdict {
  const examples: string[] = [];
  const note = (line: string) => {
    if (examples.length < maxExamples) examples.push(line);
  };
  let keysWrong = 0;
  for (const [key, version] of produced) {
    const actual = stored.get(key);
    if (actual !== version) {
      keysWrong += 1;
      note(`${key} ends at version ${actual ?? 'none'}, not ${version}`);
    }
  }
  let regressions = 0;
  let duplicateStreamRecords = 0;
  const highest = new Map<string, number>();
  const committed = new Set<string>();
  for (const entry of log) {
    const version = entry.newImage?.version;
    if (typeof version !== 'number') continue;
    const key = String(entry.keys.key);
    const top = highest.get(key) ?? 0;
    if (committed.has(`${key}@${version}`)) {
      duplicateStreamRecords += 1;
      note(`${key}: version ${version} committed again (a duplicate stream record)`);
    } else if (version < top) {
      regressions += 1;
      note(`${key}: version ${version} committed after version ${top}`);
    }
    committed.add(`${key}@${version}`);
    highest.set(key, Math.max(top, version));
  }
  return {
    holds: keysWrong === 0 && regressions === 0 && duplicateStreamRecords === 0,
    keysWrong,
    regressions,
    duplicateStreamRecords,
    examples,
  };
}
