/** @module The stable `--json` shape of a lab run (documented in docs/lab.md; a test validates it). */
import type { VariantSummary } from '../../lab/runner.js';

/** Version of the JSON shape; bumped on any breaking change. */
export const labJsonVersion = 1;

/** One variant of one scenario: the runner's summary, with times rounded. */
export type LabJsonScenario = VariantSummary;

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
      ...summary,
      opsPerSecond: Math.round(summary.opsPerSecond),
      latencyMs: { p50: round(summary.latencyMs.p50), p99: round(summary.latencyMs.p99) },
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
