/** @module Prints a race as a timeline: which invocation sent which request, in the order the engine saw them, and what became of each. */

/** One request of a race (a gating-proxy step or a scheduler trace entry). */
export interface TimelineRow {
  readonly worker: number;
  /** What the worker was doing (`event 3 (duplicate)`); empty when unknown. */
  readonly invocation?: string;
  readonly operation: string;
  readonly table?: string | undefined;
  readonly key?: Readonly<Record<string, unknown>> | undefined;
  /** What a write carried, short. */
  readonly detail?: string;
  readonly outcome: string;
  readonly responseLost?: boolean;
  readonly crashed?: boolean;
}

export interface TimelineOptions {
  /** @default `λ<n>` (a Lambda environment) */
  readonly workerName?: (worker: number) => string;
  /** @default the name without the unique suffix racesafe gives fresh tables */
  readonly tableName?: (table: string) => string;
}

/** `lab_lost_update_4242_m3k9_7` → `lab_lost_update`: fresh tables carry pid, time and counter. */
export function logicalTableName(table: string): string {
  return table.replace(/_\d+_[a-z0-9]+_\d+$/, '');
}

/** The timeline as aligned lines, one per request, numbered from 1. */
export function formatTimeline(rows: readonly TimelineRow[], options: TimelineOptions = {}): string[] {
  const workerName = options.workerName ?? ((worker: number) => `λ${worker}`);
  const tableName = options.tableName ?? logicalTableName;
  const cells = rows.map((row, index) => {
    const key = row.key === undefined ? '' : ` ${JSON.stringify(row.key)}`;
    const detail = row.detail ? ` ${row.detail}` : '';
    const request = `${row.operation} ${row.table === undefined ? '' : tableName(row.table)}${key}${detail}`;
    let outcome = row.outcome === 'ok' ? 'ok' : row.outcome;
    if (row.responseLost) outcome = `${outcome}, applied, RESPONSE LOST (the SDK retries)`;
    if (row.crashed) outcome = `${outcome}, applied, then the environment CRASHED`;
    if (row.outcome === 'SimulatedNetworkError') outcome = 'applied, RESPONSE LOST (the SDK retries)';
    if (row.outcome === 'SimulatedCrash') outcome = 'the worker CRASHED';
    return [String(index + 1), workerName(row.worker), row.invocation ?? '', request, outcome];
  });
  const header = ['#', 'who', 'invocation', 'request', 'outcome'];
  const showInvocation = rows.some((row) => row.invocation);
  const columns = showInvocation ? [0, 1, 2, 3, 4] : [0, 1, 3, 4];
  const widths = columns.map((column) =>
    Math.max((header[column] as string).length, ...cells.map((row) => (row[column] as string).length)),
  );
  const line = (row: readonly string[]) =>
    columns
      .map((column, i) =>
        i === columns.length - 1 ? (row[column] as string) : (row[column] as string).padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}
