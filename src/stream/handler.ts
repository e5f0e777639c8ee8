/** @module The batch pipeline every stream handler shares: decode, parse, key, collapse, lanes, outcome, response. */
import { emit, type OutcomeStatus } from '../observe/events.js';
import { compareVersions, type Version } from '../table.js';
import { type BatchItemFailure, batchItemFailures } from './batch-response.js';
import { collapseByKey } from './collapse.js';
import { groupIntoLanes, runLanes } from './lanes.js';
import type { ResolvedStreamOptions } from './options.js';
import { runParser } from './parse.js';
import { isPoisonError, type PoisonKind, type PoisonSink } from './poison.js';
import type { RecordContext, Source, SourceRecord } from './record.js';

/**
 * One key's records under collapse (in one lane): the version that was handled, once one was. The highest version is
 * handled first; the others wait at the end of the lane, highest first, and are reported superseded by it, unless it
 * turned out poison (its item broke a rule): then the next highest is handled instead, so a poison record never
 * takes the older versions of its key with it.
 */
interface CollapseGroup {
  /** The group's place among the batch's groups, so that the lane order is a total order. */
  readonly order: number;
  decided: Version | undefined;
}

/** What happens to one record once it is in its lane. */
type Step<E> =
  | {
      readonly kind: 'handle';
      readonly event: E;
      readonly key: string;
      readonly version: Version | undefined;
      readonly group?: CollapseGroup;
    }
  | { readonly kind: 'poison'; readonly poison: PoisonKind; readonly reason: string }
  | {
      readonly kind: 'fallback';
      readonly event: E;
      readonly key: string;
      readonly version: Version;
      readonly group: CollapseGroup;
    };

interface Work<E, Raw> {
  readonly record: SourceRecord<Raw>;
  readonly lane: string;
  readonly step: Step<E>;
}

/** Outcome statuses a `handle` result may report; anything else counts as `applied`. */
const reportable = new Set<string>(['applied', 'stale', 'duplicate', 'rejected', 'missing', 'unchanged']);

/** Handles one Lambda batch and returns its partial batch response. */
export async function processBatch<Event, Raw, E>(
  source: Source<Event, Raw>,
  options: ResolvedStreamOptions<E, Raw>,
  event: Event,
): Promise<{ batchItemFailures: BatchItemFailure[] }> {
  const records = source.records(event).map((raw, index) => source.describe(raw, index));
  const prepared = await Promise.all(records.map((record) => prepare(options, record)));
  const work = options.collapse ? collapse(prepared) : prepared;
  const lanes = groupIntoLanes([...work].sort(laneOrder), (item) => item.lane);
  const results = await runLanes(lanes.values(), options.concurrency, (item) => perform(source, options, item));
  const failed = new Set<number>();
  for (const [item, result] of results) if (result !== 'handled') failed.add(item.record.index);
  return { batchItemFailures: batchItemFailures(records, failed) };
}

/** Decodes, parses and keys one record; anything wrong makes it a poison step, in the lane of its source key. */
async function prepare<E, Raw>(
  options: ResolvedStreamOptions<E, Raw>,
  record: SourceRecord<Raw>,
): Promise<Work<E, Raw>> {
  // An SQS FIFO group must stay in order whatever the key, so it is the lane; elsewhere the key is.
  const laneOf = (key: string) => record.orderGroup ?? key;
  const poison = (kind: PoisonKind, reason: string): Work<E, Raw> => ({
    record,
    lane: laneOf(record.sourceKey),
    step: { kind: 'poison', poison: kind, reason },
  });
  if (!record.decoded.ok) return poison('undecodable', record.decoded.reason);
  const parsed = await runParser(options.parse, record.decoded.payload, record.raw);
  if (!parsed.ok) return poison('invalid', `invalid: ${parsed.reason}`);
  const event = parsed.event;
  let key: unknown;
  let version: unknown;
  try {
    key = options.key === undefined ? record.sourceKey : options.key(event, record.raw);
  } catch (error) {
    return poison('missingKey', `missing key: the key function threw: ${messageOf(error)}`);
  }
  if (!(typeof key === 'string' && key !== '') && !(typeof key === 'number' && Number.isFinite(key))) {
    return poison('missingKey', 'missing key: the record has no lane key (a non-empty string or a finite number)');
  }
  try {
    version = options.version(event);
  } catch (error) {
    return poison('invalidVersion', `invalid version: the version function threw: ${messageOf(error)}`);
  }
  const versionProblem = checkVersion(version, options.collapse);
  if (versionProblem !== undefined) return poison('invalidVersion', versionProblem);
  const laneKey = String(key);
  return {
    record,
    lane: laneOf(laneKey),
    step: { kind: 'handle', event, key: laneKey, version: version as Version | undefined },
  };
}

function checkVersion(version: unknown, required: boolean): string | undefined {
  if (version === undefined) return required ? 'invalid version: collapse needs a version on every record' : undefined;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > 0) return undefined;
  if (typeof version === 'string' && version !== '') return undefined;
  return `invalid version: ${JSON.stringify(version)} is not a positive safe integer or a non-empty ordered string`;
}

/**
 * A lane's order: records in delivery order, then collapse's fallbacks, each key's highest version first (so each one
 * runs once its key's handled version is known).
 */
function laneOrder<E, Raw>(a: Work<E, Raw>, b: Work<E, Raw>): number {
  const fallbackA = a.step.kind === 'fallback';
  const fallbackB = b.step.kind === 'fallback';
  if (fallbackA !== fallbackB) return fallbackA ? 1 : -1;
  if (a.step.kind === 'fallback' && b.step.kind === 'fallback') {
    // By group, then highest version first (DynamoDB's order); on a tie the later delivery first, as collapse keeps
    // the last. (A comparator that orders only within a group is not a total order, and sort may then misplace.)
    if (a.step.group !== b.step.group) return a.step.group.order - b.step.group.order;
    return -(compareVersions(a.step.version, b.step.version) ?? 0) || b.record.index - a.record.index;
  }
  return a.record.index - b.record.index;
}

/**
 * Per key and lane, keeps the highest version to handle and turns the key's other records into fallbacks: reported
 * superseded once a version of the key is handled, handled themselves if every higher one was poison.
 */
function collapse<E, Raw>(work: readonly Work<E, Raw>[]): Work<E, Raw>[] {
  type Candidate = Work<E, Raw> & { readonly key: string; readonly version: Version };
  const candidates: Candidate[] = [];
  const rest: Work<E, Raw>[] = [];
  for (const item of work) {
    // Every handled record has a version here: prepare() makes it poison otherwise. A key is collapsed within its
    // lane only (an SQS FIFO group may hold several keys, and a key several groups), so its fallbacks run after it.
    if (item.step.kind === 'handle' && item.step.version !== undefined) {
      candidates.push({ ...item, key: JSON.stringify([item.lane, item.step.key]), version: item.step.version });
    } else rest.push(item);
  }
  const { kept, superseded } = collapseByKey(candidates);
  const groups = new Map<Candidate, CollapseGroup>();
  const groupOf = (winner: Candidate): CollapseGroup => {
    const group = groups.get(winner) ?? { order: groups.size, decided: undefined };
    groups.set(winner, group);
    return group;
  };
  for (const { item, by } of superseded) {
    const step = item.step as Extract<Step<E>, { kind: 'handle' }>;
    rest.push({
      record: item.record,
      lane: item.lane,
      step: { kind: 'fallback', event: step.event, key: step.key, version: item.version, group: groupOf(by) },
    });
  }
  for (const item of kept) {
    const group = groups.get(item);
    const { record, lane, step } = item;
    rest.push(
      group === undefined
        ? { record, lane, step }
        : { record, lane, step: { ...(step as Extract<Step<E>, { kind: 'handle' }>), group } },
    );
  }
  return rest;
}

/** Runs one record's step; true when the record counts as handled. Emits the record's outcome event. */
async function perform<Event, Raw, E>(
  source: Source<Event, Raw>,
  options: ResolvedStreamOptions<E, Raw>,
  item: Work<E, Raw>,
): Promise<boolean> {
  const started = performance.now();
  const { record, step } = item;
  const report = (status: OutcomeStatus, reason: string | undefined, context: Record<string, unknown>) => {
    if (options.observers.length === 0) return;
    emit(options.observers, {
      op: source.name,
      table: source.origin(record.raw),
      key: { key: step.kind === 'poison' ? item.lane : step.key },
      status,
      attempts: 1,
      latencyMs: performance.now() - started,
      ...(reason === undefined ? {} : { reason }),
      context,
    });
  };
  const ids = { eventId: record.eventId, itemIdentifier: record.itemIdentifier };
  if (step.kind === 'poison')
    return sendToSink(source, options.onPoison, record, step.poison, step.reason, ids, report);
  const context = { ...ids, key: step.key, version: step.version, fields: step.event };
  const decided = step.group?.decided;
  if (step.kind === 'fallback' && decided !== undefined) {
    const status = compareVersions(step.version, decided) === 0 ? 'duplicate' : 'stale';
    report(status, `collapsed: version ${String(decided)} of this key is in the same batch`, context);
    return true;
  }
  const recordContext: RecordContext<Raw> = {
    eventId: record.eventId,
    itemIdentifier: record.itemIdentifier,
    key: step.key,
    version: step.version,
    raw: record.raw,
    callOptions: { context },
  };
  let result: unknown;
  try {
    result = await options.handle(step.event, recordContext);
  } catch (error) {
    if (isPoisonError(error))
      return sendToSink(source, options.onPoison, record, 'invalidInput', error.message, ids, report);
    report('error', messageOf(error), context);
    return false;
  }
  if (step.group !== undefined) step.group.decided = step.version;
  const status = (result as { status?: unknown } | null | undefined)?.status;
  const reason = (result as { reason?: unknown } | null | undefined)?.reason;
  report(
    typeof status === 'string' && reportable.has(status) ? (status as OutcomeStatus) : 'applied',
    typeof reason === 'string' ? reason : undefined,
    context,
  );
  return true;
}

async function sendToSink<Event, Raw>(
  source: Source<Event, Raw>,
  sink: PoisonSink<Raw> | undefined,
  record: SourceRecord<Raw>,
  kind: PoisonKind,
  reason: string,
  ids: { eventId: string; itemIdentifier: string },
  report: (status: OutcomeStatus, reason: string | undefined, context: Record<string, unknown>) => void,
): Promise<boolean> {
  const context = { ...ids, poison: kind };
  if (sink === undefined) {
    // Never dropped silently: without a sink the record fails, and Lambda's retries and on-failure destination apply.
    report('rejected', `poison, reported failed (no onPoison sink): ${reason}`, context);
    return false;
  }
  try {
    await sink({
      kind,
      reason,
      handler: source.name,
      origin: source.origin(record.raw),
      eventId: record.eventId,
      itemIdentifier: record.itemIdentifier,
      raw: record.raw,
    });
  } catch (error) {
    report('error', `poison, and onPoison failed: ${messageOf(error)} (poison: ${reason})`, context);
    return false;
  }
  report('rejected', `poison, sent to onPoison: ${reason}`, context);
  return true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
