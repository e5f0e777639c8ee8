import { describe, expect, it } from 'vitest';
import type { LabShrunkRun, LabTimelineEntry, VariantSummary } from '../../lab/runner.js';
import { shownFailure } from './failing-run.js';

const entry = {
  race: 0,
  worker: 0,
  step: 0,
  operation: 'PutItem',
  table: 't',
  key: '{}',
  outcome: 'ok',
} as unknown as LabTimelineEntry;
const failing = (shrunk: LabShrunkRun | null) =>
  ({ example: ['2 of 6 edits lost'], timeline: [entry, entry], shrunk }) as unknown as VariantSummary;
const unshrunk = (budget: number): LabShrunkRun => ({
  trials: 0,
  budget,
  originalRequests: 2,
  requests: 2,
  faultsOff: [],
  anomalies: ['2 of 6 edits lost'],
  timeline: [],
});

describe('shownFailure', () => {
  it('says why a failing run was not shrunk: shrinking off, or nothing in the story to make smaller', () => {
    expect(shownFailure(failing(unshrunk(0))).title).toContain('not shrunk: shrinking is off');
    expect(shownFailure(failing(unshrunk(10))).title).toContain('not shrunk: the story has no size knob');
  });

  it('shows the minimal run and what was taken away when the shrink found one', () => {
    const shown = shownFailure(
      failing({ ...unshrunk(10), trials: 2, requests: 1, size: { name: 'orders', from: 8, to: 2 }, timeline: [entry] }),
    );
    expect(shown.title).toBe('minimal failing run: 1 requests, shrunk from 2 (orders 8 → 2) in 2 of 10 trials');
    expect(shown.timeline).toHaveLength(1);
  });
});
