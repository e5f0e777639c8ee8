/** @module Benchmark harness: closed-loop concurrency, interleaved rounds, and ratios measured in one run. */

/** Throughput of one measured round. */
export interface Round {
  readonly ops: number;
  readonly ms: number;
  readonly opsPerSecond: number;
}

/** Runs `ops` calls of `op(i)` with `concurrency` in flight at any time. */
export async function closedLoop(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Round> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  const ms = performance.now() - started;
  return { ops, ms, opsPerSecond: (ops / ms) * 1000 };
}

export interface Comparison {
  readonly name: string;
  readonly candidate: string;
  readonly baseline: string;
  readonly candidateOpsPerSecond: number;
  readonly baselineOpsPerSecond: number;
  /** candidate / baseline, from the medians of interleaved rounds. */
  readonly ratio: number;
  readonly target: number;
  readonly rounds: number;
}

/**
 * Alternates baseline and candidate rounds (B, C, C, B, B, C, …) so that drift on a shared, noisy machine hits both
 * alike, and compares medians.
 */
export async function compare(options: {
  name: string;
  candidate: { name: string; round: () => Promise<Round> };
  baseline: { name: string; round: () => Promise<Round> };
  rounds: number;
  target: number;
}): Promise<Comparison> {
  const candidate: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const order = i % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    for (const which of order) {
      if (which === 'baseline') baseline.push((await options.baseline.round()).opsPerSecond);
      else candidate.push((await options.candidate.round()).opsPerSecond);
    }
  }
  const c = median(candidate);
  const b = median(baseline);
  return {
    name: options.name,
    candidate: options.candidate.name,
    baseline: options.baseline.name,
    candidateOpsPerSecond: c,
    baselineOpsPerSecond: b,
    ratio: c / b,
    target: options.target,
    rounds: options.rounds,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Prints comparisons as a table. */
export function printComparisons(title: string, rows: readonly Comparison[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((row) => ({
      benchmark: row.name,
      [row.candidate]: `${row.candidateOpsPerSecond.toFixed(0)} ops/s`,
      baseline: `${row.baseline}: ${row.baselineOpsPerSecond.toFixed(0)} ops/s`,
      ratio: row.ratio.toFixed(3),
      target: row.target > 0 ? `>= ${row.target}` : 'info',
      met: row.target > 0 ? (row.ratio >= row.target ? 'yes' : 'NO') : '-',
    })),
  );
}
