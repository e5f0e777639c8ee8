/** @module Benchmark harness: closed-loop concurrency, paired rounds, and ratios measured in one run. */

/** Throughput of one measured round. */
export interface Round {
  readonly ops: number;
  readonly ms: number;
  readonly opsPerSecond: number;
  /** CPU time of this Node process (user + system) per operation: the client's own cost, in microseconds. */
  readonly cpuMicrosPerOp: number;
}

/** Runs `ops` calls of `op(i)` with `concurrency` in flight at any time. */
export async function closedLoop(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Round> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ops, ms, opsPerSecond: (ops / ms) * 1000, cpuMicrosPerOp: (used.user + used.system) / ops };
}

export interface Comparison {
  readonly name: string;
  readonly candidate: string;
  readonly baseline: string;
  /** Medians over the rounds. */
  readonly candidateOpsPerSecond: number;
  readonly baselineOpsPerSecond: number;
  readonly candidateCpuMicrosPerOp: number;
  readonly baselineCpuMicrosPerOp: number;
  /** The median of the paired ratios candidate / baseline: each pair ran back to back. */
  readonly ratio: number;
  /** The lower and upper quartiles of the paired ratios: how noisy the machine was. */
  readonly ratioSpread: readonly [number, number];
  /** A 95% confidence interval of the median ratio: how far another run's median may land. */
  readonly ratioInterval: readonly [number, number];
  readonly target: number;
  readonly rounds: number;
}

/**
 * Runs `rounds` pairs of one baseline and one candidate round, back to back, in alternating order (B C, C B, …), and
 * compares them pair by pair. On a shared machine throughput drifts by tens of percent within a minute; within a pair
 * both variants see the same drift, so the median of the paired ratios is far steadier than a ratio of two medians.
 */
export async function compare(options: {
  name: string;
  candidate: { name: string; round: () => Promise<Round> };
  baseline: { name: string; round: () => Promise<Round> };
  rounds: number;
  target: number;
  /** Unmeasured pairs first: the JVM of DynamoDB Local compiles a new kind of request for thousands of requests. @default 2 */
  warmUp?: number;
}): Promise<Comparison> {
  for (let i = 0; i < (options.warmUp ?? 2); i++) {
    await options.baseline.round();
    await options.candidate.round();
  }
  const candidate: Round[] = [];
  const baseline: Round[] = [];
  for (let i = 0; i < options.rounds; i++) {
    if (i % 2 === 0) {
      baseline.push(await options.baseline.round());
      candidate.push(await options.candidate.round());
    } else {
      candidate.push(await options.candidate.round());
      baseline.push(await options.baseline.round());
    }
  }
  const ratios = candidate.map((round, i) => round.opsPerSecond / (baseline[i] as Round).opsPerSecond);
  return {
    name: options.name,
    candidate: options.candidate.name,
    baseline: options.baseline.name,
    candidateOpsPerSecond: median(candidate.map((round) => round.opsPerSecond)),
    baselineOpsPerSecond: median(baseline.map((round) => round.opsPerSecond)),
    candidateCpuMicrosPerOp: median(candidate.map((round) => round.cpuMicrosPerOp)),
    baselineCpuMicrosPerOp: median(baseline.map((round) => round.cpuMicrosPerOp)),
    ratio: median(ratios),
    ratioSpread: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    ratioInterval: medianInterval(ratios),
    target: options.target,
    rounds: options.rounds,
  };
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The `q` quantile of `values`, interpolating between neighbours (q = 0.5 is the median). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

/**
 * A distribution-free 95% confidence interval of the median of `values`: the order statistics whose ranks bound the
 * binomial(n, 1/2) count of values below the true median (normal approximation), so no assumption about the noise.
 */
export function medianInterval(values: readonly number[]): [number, number] {
  if (values.length === 0) throw new Error('confidence interval of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const halfWidth = (1.96 * Math.sqrt(n)) / 2;
  // Ranks counted from 1, as in the textbook formula; clamped, since a few values give no interval narrower than all.
  const lower = Math.max(1, Math.round(n / 2 - halfWidth));
  const upper = Math.min(n, Math.round(1 + n / 2 + halfWidth));
  return [sorted[lower - 1] as number, sorted[upper - 1] as number];
}

/** Prints comparisons as a table. */
export function printComparisons(title: string, rows: readonly Comparison[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((row) => ({
      benchmark: row.name,
      candidate: `${row.candidate}: ${row.candidateOpsPerSecond.toFixed(0)} ops/s, ${row.candidateCpuMicrosPerOp.toFixed(0)} µs CPU/op`,
      baseline: `${row.baseline}: ${row.baselineOpsPerSecond.toFixed(0)} ops/s, ${row.baselineCpuMicrosPerOp.toFixed(0)} µs CPU/op`,
      ratio: `${row.ratio.toFixed(3)} (${row.ratioInterval[0].toFixed(3)}-${row.ratioInterval[1].toFixed(3)})`,
      quartiles: `${row.ratioSpread[0].toFixed(2)}-${row.ratioSpread[1].toFixed(2)}`,
      target: row.target > 0 ? `>= ${row.target}` : 'info',
      met: row.target > 0 ? (row.ratio >= row.target ? 'yes' : 'NO') : '-',
    })),
  );
  console.log(
    'ratio: median of the paired rounds, 95% confidence interval in brackets; quartiles: the spread of single pairs; ' +
      'CPU: this Node process, the client side, per operation',
  );
}
