/** @module The stable `--json` shape of a lab run (documented in docs/lab.md; a test validates it). */
import type { VariantSummary } from '../runner.js';

/** Version of the JSON shape; bumped on any breaking change. */
export const labJsonVersion = 1;

export interface LabJsonScenario {
  readonly name: string;
  readonly variant: 'naive' | 'safe';
  readonly runs: number;
  /** Runs in which the checker found an anomaly. */
  readonly anomalies: number;
  readonly firstFailingSeed: number | null;
  /** Present when the scenario did not run on this engine: the reason. */
  readonly skipped?: string;
  readonly requests: number;
  readonly retries: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly example: readonly string[];
  readonly upstreamCalls?: readonly number[];
}

export interface LabJson {
  readonly version: typeof labJsonVersion;
  readonly engine: string;
  readonly seeds: readonly number[];
  /** True when every safe variant that ran had zero anomalies (the exit code is 0 exactly then). */
  readonly passed: boolean;
  readonly scenarios: readonly LabJsonScenario[];
}

export function toLabJson(engine: string, seeds: readonly number[], summaries: readonly VariantSummary[]): LabJson {
  return {
    version: labJsonVersion,
    engine,
    seeds,
    passed: labPassed(summaries),
    scenarios: summaries.map((summary) => ({
      name: summary.name,
      variant: summary.variant,
      runs: summary.runs,
      anomalies: summary.anomalies,
      firstFailingSeed: summary.firstFailingSeed,
      ...(summary.skipped === undefined ? {} : { skipped: summary.skipped }),
      requests: summary.requests,
      retries: summary.retries,
      opsPerSecond: Math.round(summary.opsPerSecond),
      latencyMs: { p50: round(summary.latencyMs.p50), p99: round(summary.latencyMs.p99) },
      example: summary.example,
      ...(summary.upstreamCalls === undefined ? {} : { upstreamCalls: summary.upstreamCalls }),
    })),
  };
}

/** The lab passes when no safe variant let an anomaly through. */
export function labPassed(summaries: readonly VariantSummary[]): boolean {
  return summaries.every((summary) => summary.variant !== 'safe' || summary.anomalies === 0);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
