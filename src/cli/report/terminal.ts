/** @module The lab's terminal output: progress while it runs, then one table. */
import type { LabProgress, VariantSummary } from '../../lab/runner.js';
import { shownFailure, timelineLines } from './failing-run.js';

/** A progress line per run, rewritten in place on a TTY and printed per variant otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (progress: LabProgress) => void {
  return (progress) => {
    const line = `  ${progress.scenario.padEnd(22)} ${progress.variant.padEnd(5)} run ${progress.run}/${progress.runs}  anomalous runs: ${progress.anomalies}`;
    if (stream.isTTY) {
      stream.write(`\r${line}\u001b[K`);
      if (progress.run === progress.runs) stream.write('\n');
    } else if (progress.run === progress.runs) {
      stream.write(`${line}\n`);
    }
  };
}

/** The summary table (scenario, variant, runs, anomalies, first failing seed, requests, ops/s). */
export function renderTable(summaries: readonly VariantSummary[]): string {
  const header = ['scenario', 'variant', 'runs', 'anomalies', 'first failing seed', 'requests', 'ops/s'];
  const rows = summaries.map((s) =>
    s.skipped
      ? [s.name, s.variant, '-', `skipped: ${s.skipped}`, '', '', '']
      : [
          s.name,
          s.variant,
          String(s.runs),
          `${s.anomalies}${s.variant === 'safe' ? (s.anomalies === 0 ? '  ok' : '  FAIL') : ''}`,
          s.firstFailingSeed === null ? '-' : String(s.firstFailingSeed),
          String(s.requests),
          s.opsPerSecond.toFixed(0),
        ],
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)].join('\n');
}

/** A story's own counts (`measurements`), one line per variant: the mean per run of each. */
export function renderMeasurements(summaries: readonly VariantSummary[]): string {
  return summaries
    .filter((s) => s.measurements !== undefined)
    .map((s) => {
      const means = Object.entries(s.measurements ?? {}).map(([name, values]) => {
        const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
        return `${name} ${Number.isInteger(mean) ? mean : mean.toFixed(1)}`;
      });
      return `  ${s.name} (${s.variant}): ${means.join(', ')}`;
    })
    .join('\n');
}

/** Requests shown per failing run; a story's run can send hundreds. */
const timelineLimit = 24;

/**
 * The first failing run of each variant that failed: what broke, the requests in the order the scheduler let them
 * through (which worker sent which, which response was lost), and the command that replays it.
 */
export function renderFailures(
  summaries: readonly VariantSummary[],
  replay: (scenario: string, seed: number) => string,
): string {
  return summaries
    .filter((s) => s.example.length > 0 && s.firstFailingSeed !== null)
    .map((s) => {
      const seed = s.firstFailingSeed as number;
      const lines = [`${s.name} (${s.variant}), seed ${seed} (failing seeds: ${s.failingSeeds.join(', ')}):`];
      const shown = shownFailure(s);
      for (const anomaly of shown.anomalies) lines.push(`  ${anomaly}`);
      lines.push(`  ${shown.title}:`);
      for (const row of timelineLines(shown.timeline, timelineLimit)) lines.push(`    ${row}`);
      lines.push(`  Replay it (${shown.replayNote}): ${replay(s.name, seed)}`);
      return lines.join('\n');
    })
    .join('\n\n');
}
