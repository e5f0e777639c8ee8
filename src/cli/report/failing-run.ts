/** @module Which run of a failing variant the reports show, request by request: the shrunk one, labelled with what was shrunk. */
import type { LabTimelineEntry, VariantSummary } from '../../lab/runner.js';
import { formatTimeline } from '../timeline.js';

/** What the reports show of a variant's first failing run. */
export interface ShownFailure {
  /** `minimal failing run: 9 of 38 requests (workers 4 → 2), shrunk in 4 of 10 trials`. */
  readonly title: string;
  readonly anomalies: readonly string[];
  readonly timeline: readonly LabTimelineEntry[];
  /** What the replay command reproduces. */
  readonly replayNote: string;
}

export function shownFailure(s: VariantSummary): ShownFailure {
  const shrunk = s.shrunk;
  if (shrunk === null || shrunk.trials === 0) {
    // No trial ran: shrinking was turned off (a budget of 0), or the story has nothing to make smaller.
    const why = shrunk?.budget === 0 ? 'shrinking is off' : 'the story has no size knob or seeded faults';
    return {
      title: `first failing run, ${s.timeline.length} requests (not shrunk: ${why})`,
      anomalies: s.example,
      timeline: s.timeline,
      replayNote: 'replays this run',
    };
  }
  const changes = [
    ...(shrunk.size && shrunk.size.to < shrunk.size.from
      ? [`${shrunk.size.name} ${shrunk.size.from} → ${shrunk.size.to}`]
      : []),
    ...shrunk.faultsOff.map((kind) => `${kind} off`),
  ];
  const smaller = changes.length > 0;
  return {
    title: smaller
      ? `minimal failing run: ${shrunk.requests} requests, shrunk from ${shrunk.originalRequests} (${changes.join(', ')}) in ${shrunk.trials} of ${shrunk.budget} trials`
      : `first failing run, ${shrunk.originalRequests} requests: nothing smaller failed in ${shrunk.trials} of ${shrunk.budget} trials`,
    anomalies: smaller ? shrunk.anomalies : s.example,
    timeline: smaller ? shrunk.timeline : s.timeline,
    replayNote: smaller ? 'replays the original seed, then shrinks it the same way to this run' : 'replays this run',
  };
}

/** A failing run's timeline as aligned lines (races numbered when the run raced more than once), at most `limit` requests. */
export function timelineLines(timeline: readonly LabTimelineEntry[], limit: number): string[] {
  const races = new Set(timeline.map((entry) => entry.race)).size;
  const lines = formatTimeline(
    timeline.slice(0, limit).map((entry) => ({ ...entry, invocation: races > 1 ? `race ${entry.race}` : '' })),
    { workerName: (worker) => `w${worker}` },
  );
  if (timeline.length > limit) lines.push(`... ${timeline.length - limit} more requests`);
  return lines;
}
