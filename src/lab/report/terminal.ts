/** @module The lab's terminal output: progress while it runs, then one table. */
import type { LabProgress, VariantSummary } from '../runner.js';

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

/** What went wrong in the first failing run of each variant that failed. */
export function renderExamples(summaries: readonly VariantSummary[]): string {
  return summaries
    .filter((s) => s.example.length > 0)
    .map((s) => `${s.name} (${s.variant}, seed ${s.firstFailingSeed}): ${s.example.join('; ')}`)
    .join('\n');
}
