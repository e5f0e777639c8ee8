/** @module The HTML report: one self-contained file (inline CSS and SVG, no scripts, no fonts) that opens offline. */
import type { Scenario } from '../scenario.js';
import type { LabJson, LabJsonScenario } from './json.js';

interface Bar {
  readonly label: string;
  readonly naive: number;
  readonly safe: number;
}

/** Renders the report. Every value that came from a run is escaped. */
export function renderHtml(report: LabJson, scenarios: readonly Scenario[]): string {
  const ran = report.scenarios.filter((row) => row.skipped === undefined);
  const names = [...new Set(ran.map((row) => row.name))];
  const pick = (name: string, variant: 'naive' | 'safe') =>
    ran.find((row) => row.name === name && row.variant === variant);
  const bars = (value: (row: LabJsonScenario) => number): Bar[] =>
    names.map((name) => {
      const [naive, safe] = [pick(name, 'naive'), pick(name, 'safe')];
      return { label: name, naive: naive ? value(naive) : 0, safe: safe ? value(safe) : 0 };
    });
  const verdict = report.passed
    ? '<p class="pass">Every safe variant held its invariant on every seed.</p>'
    : '<p class="fail">A safe variant let an anomaly through. Replay it with <code>--seed</code>.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>racesafe lab report</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1d2430; padding: 0 1rem; }
  h1 { margin-bottom: 0; } .meta { color: #5b6474; margin-top: .25rem; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: 14px; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6eb; }
  th { background: #f4f6f9; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .pass { color: #176b3a; font-weight: 600; } .fail { color: #b42318; font-weight: 600; }
  .naive { fill: #d9534f; } .safe { fill: #2e8b57; } .legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; }
  .chart { margin: 1rem 0 2rem; } .chart text { font: 12px system-ui, sans-serif; fill: #1d2430; }
  dt { font-weight: 600; margin-top: .6rem; } dd { margin-left: 1rem; color: #3a4252; }
  code { background: #f4f6f9; padding: 0 .25rem; border-radius: 3px; }
</style>
</head>
<body>
<h1>racesafe lab report</h1>
<p class="meta">engine: ${esc(report.engine)} · seeds: ${esc(describeSeeds(report.seeds))} · ${ran.length / 2} scenarios ran</p>
${verdict}
<p class="legend"><span class="naive" style="background:#d9534f"></span>naive <span class="safe" style="background:#2e8b57"></span>safe</p>
<h2>Runs with an anomaly</h2>
${barChart(
  'anomalies',
  bars((row) => row.anomalies),
  'runs',
)}
<h2>Retries (SDK retries and racesafe's optimistic and transaction retries)</h2>
${barChart(
  'retries',
  bars((row) => row.retries),
  'retries',
)}
<h2>Request latency, p99 (ms)</h2>
${barChart(
  'latency',
  bars((row) => row.latencyMs.p99),
  'ms',
)}
<h2>Results</h2>
<table>
<thead><tr><th>scenario</th><th>variant</th><th>runs</th><th>anomalies</th><th>first failing seed</th><th>requests</th><th>retries</th><th>ops/s</th><th>p50 ms</th><th>p99 ms</th></tr></thead>
<tbody>
${report.scenarios.map(row).join('\n')}
</tbody>
</table>
<h2>Stories and invariants</h2>
<dl>
${scenarios.map((s) => `<dt>${esc(s.name)}</dt><dd>${esc(s.summary)}<br>Invariant: ${esc(s.invariant)}</dd>`).join('\n')}
</dl>
${examples(report.scenarios)}
</body>
</html>
`;
}

function row(s: LabJsonScenario): string {
  if (s.skipped !== undefined) {
    return `<tr><td>${esc(s.name)}</td><td>${s.variant}</td><td colspan="8">skipped: ${esc(s.skipped)}</td></tr>`;
  }
  const anomalies =
    s.variant === 'safe'
      ? `<span class="${s.anomalies === 0 ? 'pass' : 'fail'}">${s.anomalies}</span>`
      : String(s.anomalies);
  const cells = [
    s.runs,
    anomalies,
    s.firstFailingSeed ?? '-',
    s.requests,
    s.retries,
    s.opsPerSecond,
    s.latencyMs.p50,
    s.latencyMs.p99,
  ];
  return `<tr><td>${esc(s.name)}</td><td>${s.variant}</td>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`;
}

function examples(rows: readonly LabJsonScenario[]): string {
  const failing = rows.filter((r) => r.example.length > 0);
  if (failing.length === 0) return '';
  const items = failing.map(
    (r) =>
      `<li><b>${esc(r.name)}</b> (${r.variant}, seed ${r.firstFailingSeed}): ${r.example.map(esc).join('; ')}</li>`,
  );
  return `<h2>What went wrong (first failing run)</h2>\n<ul>\n${items.join('\n')}\n</ul>`;
}

/** A grouped horizontal bar chart in inline SVG: one row per scenario, naive above safe. */
function barChart(id: string, bars: readonly Bar[], unit: string): string {
  const labelWidth = 190;
  const width = 900;
  const rowHeight = 44;
  const max = Math.max(1, ...bars.flatMap((bar) => [bar.naive, bar.safe]));
  const scale = (value: number) => ((width - labelWidth - 80) * value) / max;
  const rows = bars.map((bar, index) => {
    const y = index * rowHeight + 6;
    const rect = (variant: 'naive' | 'safe', value: number, dy: number) =>
      `<rect class="${variant}" x="${labelWidth}" y="${y + dy}" width="${scale(value).toFixed(1)}" height="15"><title>${variant}: ${value} ${unit}</title></rect>` +
      `<text x="${labelWidth + scale(value) + 6}" y="${y + dy + 12}">${format(value)}</text>`;
    return `<text x="0" y="${y + 20}">${esc(bar.label)}</text>${rect('naive', bar.naive, 0)}${rect('safe', bar.safe, 17)}`;
  });
  const height = Math.max(1, bars.length) * rowHeight + 8;
  return `<svg class="chart" id="chart-${id}" role="img" aria-label="${esc(id)} naive vs safe" viewBox="0 0 ${width} ${height}" width="100%">${rows.join('')}</svg>`;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function describeSeeds(seeds: readonly number[]): string {
  return seeds.length === 1 ? String(seeds[0]) : `${seeds[0]}..${seeds.at(-1)} (${seeds.length})`;
}

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
