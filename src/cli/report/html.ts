/** @module The HTML report: one self-contained file (inline CSS and SVG, no scripts, no fonts) that opens offline. */
import type { Scenario } from '../../lab/scenario.js';
import { shownFailure, timelineLines } from './failing-run.js';
import type { LabJson, LabJsonScenario } from './json.js';

interface Bar {
  readonly label: string;
  readonly naive: number;
  readonly safe: number;
}

/** What the report says besides the runs: racesafe's version, how long the run took, how to replay a seed. */
export interface HtmlMeta {
  readonly version: string;
  readonly durationMs: number;
  readonly replay: (scenario: string, seed: number) => string;
}

/** Requests shown per failing run. */
const timelineLimit = 40;

/**
 * Renders the report: the verdict, one row per story (naive beside safe, the seeds that failed and a replay command
 * for each), the upstream calls per run where a story counts them, the first failing run's timeline (shrunk), and the run's
 * facts. Latency is left out: on a shared machine its milliseconds are noise, and it is not what the lab judges.
 * Every value that came from a run is escaped.
 */
export function renderHtml(report: LabJson, scenarios: readonly Scenario[], meta: HtmlMeta): string {
  const ran = report.scenarios.filter((row) => row.skipped === undefined);
  const names = [...new Set(report.scenarios.map((row) => row.name))];
  const pick = (name: string, variant: 'naive' | 'safe') =>
    report.scenarios.find((row) => row.name === name && row.variant === variant);
  const bars = (value: (row: LabJsonScenario) => number): Bar[] =>
    names
      .filter((name) => ran.some((row) => row.name === name))
      .map((name) => {
        const [naive, safe] = [pick(name, 'naive'), pick(name, 'safe')];
        return { label: name, naive: naive ? value(naive) : 0, safe: safe ? value(safe) : 0 };
      });
  const failingSafe = ran.filter((row) => row.variant === 'safe' && row.anomalies > 0);
  const verdict = report.passed
    ? '<p class="verdict pass">PASS: every safe variant held its invariant on every seed; the naive variants show the races they are named for.</p>'
    : `<p class="verdict fail">FAIL: ${failingSafe.map((row) => esc(row.name)).join(', ')} let an anomaly through with racesafe. That is a racesafe bug: replay it with the command below.</p>`;
  const story = new Map(scenarios.map((scenario) => [scenario.name, scenario]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>racesafe lab report</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2430; padding: 0 1rem; }
  h1 { margin-bottom: 0; } .meta { color: #5b6474; margin-top: .25rem; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: 14px; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
  th { background: #f4f6f9; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .pass { color: #176b3a; font-weight: 600; } .fail { color: #b42318; font-weight: 600; } .muted { color: #5b6474; }
  .verdict { font-size: 1.15rem; padding: .6rem .8rem; border-radius: 6px; background: #f4f6f9; }
  .naive { fill: #d9534f; } .safe { fill: #2e8b57; } .legend span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; }
  .chart { margin: 1rem 0 2rem; } .chart text { font: 12px system-ui, sans-serif; fill: #1d2430; }
  code { background: #f4f6f9; padding: 0 .25rem; border-radius: 3px; font-size: 12.5px; }
  pre { background: #f4f6f9; padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; font-size: 12.5px; line-height: 1.4; }
  p.shrunk { font-weight: 600; margin: .2rem 0; }
  ul.replay { margin: .2rem 0; padding-left: 1rem; } ul.replay li { margin: .15rem 0; } ul.replay code { white-space: nowrap; }
  td.story { width: 34%; }
</style>
</head>
<body>
<h1>racesafe lab report</h1>
<p class="meta">racesafe ${esc(meta.version)} · engine: ${esc(report.engine)} · seeds: ${esc(describeSeeds(report.seeds))} · ${names.length} stories · took ${esc((meta.durationMs / 1000).toFixed(1))} s · ${esc(new Date().toISOString().slice(0, 19))}Z</p>
${verdict}
<h2>Stories</h2>
<table id="stories">
<thead><tr><th>story and its invariant</th><th>naive: runs with an anomaly</th><th>safe: runs with an anomaly</th><th>failing seeds, each with its replay command</th></tr></thead>
<tbody>
${names.map((name) => storyRow(name, story.get(name), pick(name, 'naive'), pick(name, 'safe'), meta)).join('\n')}
</tbody>
</table>
<p class="legend"><span class="naive" style="background:#d9534f"></span>naive <span class="safe" style="background:#2e8b57"></span>safe</p>
<h2>Runs with an anomaly, of ${report.seeds.length}</h2>
${barChart(
  'anomalies',
  bars((row) => row.anomalies),
  'runs',
)}
${upstream(ran)}
<h2>Requests and retries</h2>
<table>
<thead><tr><th>story</th><th>variant</th><th>runs</th><th>requests</th><th>retries (SDK + racesafe)</th><th>runs the watchdog released</th></tr></thead>
<tbody>
${report.scenarios.map(row).join('\n')}
</tbody>
</table>
${timelines(report.scenarios, meta)}
</body>
</html>
`;
}

function storyRow(
  name: string,
  scenario: Scenario | undefined,
  naive: LabJsonScenario | undefined,
  safe: LabJsonScenario | undefined,
  meta: HtmlMeta,
): string {
  const cell = (row: LabJsonScenario | undefined) => {
    if (row === undefined) return '<td class="muted">-</td>';
    if (row.skipped !== undefined) return `<td class="muted">skipped: ${esc(row.skipped)}</td>`;
    const good = row.variant === 'safe' ? row.anomalies === 0 : row.anomalies > 0;
    return `<td class="num ${good ? 'pass' : 'fail'}">${row.anomalies} / ${row.runs}</td>`;
  };
  const failing = [naive, safe].flatMap((row) =>
    row && row.failingSeeds.length > 0
      ? [
          `<b>${row.variant}</b>: seeds ${esc(row.failingSeeds.join(', '))}<ul class="replay">${row.failingSeeds
            .slice(0, 3)
            .map((seed) => `<li><code>${esc(meta.replay(name, seed))}</code></li>`)
            .join(
              '',
            )}${row.failingSeeds.length > 3 ? `<li class="muted">… and ${row.failingSeeds.length - 3} more seeds, the same way</li>` : ''}</ul>`,
        ]
      : [],
  );
  return `<tr><td class="story"><b>${esc(name)}</b><br><span class="muted">${esc(scenario?.summary ?? '')}</span><br>Invariant: ${esc(scenario?.invariant ?? '')}</td>${cell(naive)}${cell(safe)}<td>${failing.join('') || '<span class="muted">none</span>'}</td></tr>`;
}

function row(s: LabJsonScenario): string {
  if (s.skipped !== undefined) {
    return `<tr><td>${esc(s.name)}</td><td>${s.variant}</td><td colspan="4" class="muted">skipped: ${esc(s.skipped)}</td></tr>`;
  }
  const cells = [s.runs, s.requests, s.retries, s.nondeterministicRuns];
  return `<tr><td>${esc(s.name)}</td><td>${s.variant}</td>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`;
}

/** Upstream calls per run, for stories that count them (the cache stampede: one call per run is the goal). */
function upstream(rows: readonly LabJsonScenario[]): string {
  const counted = rows.filter((r) => r.upstreamCalls !== undefined && r.upstreamCalls.length > 0);
  if (counted.length === 0) return '';
  const lines = counted.map((r) => {
    const calls = r.upstreamCalls ?? [];
    const min = Math.min(...calls);
    const max = Math.max(...calls);
    return `<tr><td>${esc(r.name)}</td><td>${r.variant}</td><td class="num">${min}</td><td class="num">${max}</td><td>${esc(calls.join(', '))}</td></tr>`;
  });
  return `<h2>Upstream calls per run</h2>
<table id="upstream">
<thead><tr><th>story</th><th>variant</th><th>fewest</th><th>most</th><th>per run, seed by seed</th></tr></thead>
<tbody>
${lines.join('\n')}
</tbody>
</table>`;
}

/** The first failing run of each failing variant: what broke, and its requests in the order the engine saw them. */
function timelines(rows: readonly LabJsonScenario[], meta: HtmlMeta): string {
  const failing = rows.filter((r) => r.example.length > 0 && r.firstFailingSeed !== null);
  if (failing.length === 0) return '';
  const sections = failing.map((r) => {
    const shown = shownFailure(r);
    return `<h3>${esc(r.name)} (${r.variant}), seed ${r.firstFailingSeed}</h3>
<p class="shrunk">${esc(shown.title)}</p>
<ul>${shown.anomalies.map((line) => `<li>${esc(line)}</li>`).join('')}</ul>
<pre>${esc(timelineLines(shown.timeline, timelineLimit).join('\n'))}</pre>
<p>Replay it (${esc(shown.replayNote)}): <code>${esc(meta.replay(r.name, r.firstFailingSeed as number))}</code></p>`;
  });
  return `<h2>The first failing run of each story, shrunk, request by request</h2>\n${sections.join('\n')}`;
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
