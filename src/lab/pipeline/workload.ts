/** @module The pipeline's workload (pure): versioned changes per key, and the producer invocations that publish them. */
import { type Random, randomInt, shuffled } from '../../testing/random.js';

/** A versioned state change: `version` grows by one per change of a key. */
export interface StateChange {
  readonly key: string;
  readonly version: number;
  readonly temperature: number;
}

/**
 * The Kinesis partition key of a change when the stream is partitioned by the gateway that relayed it, not by the
 * device: a device's changes reach the stream through any of `gateways` gateways (drawn from key and version, so a
 * retried invocation publishes a change to the same shard again). Kinesis then orders a key's changes only within a
 * gateway, and Lambda's concurrent batches (several shards, `ParallelizationFactor`) hold one key at once.
 */
export function gatewayPartitionKey(change: StateChange, gateways: number): string {
  let hash = 2166136261;
  for (const char of `${change.key}#${change.version}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return `gateway-${String((hash >>> 0) % gateways).padStart(2, '0')}`;
}

/** One producer invocation: its changes, and whether it is a retry of an earlier invocation (it publishes again). */
export interface ProducerInvocation {
  readonly changes: readonly StateChange[];
  readonly retry: boolean;
}

/**
 * `events` changes spread over `keys` keys (each key's versions 1, 2, 3… in order, keys interleaved at random), in
 * producer invocations of `chunk` changes. With probability `retryRate` an invocation is retried one to three
 * invocations later, as Lambda retries a failed asynchronous invocation: its changes are published a second time,
 * after newer versions of the same keys.
 */
export function producerInvocations(
  random: Random,
  plan: { readonly events: number; readonly keys: number; readonly chunk: number; readonly retryRate: number },
): ProducerInvocation[] {
  const slots = shuffled(
    random,
    Array.from({ length: plan.events }, (_, i) => i % plan.keys),
  );
  const versions = new Array<number>(plan.keys).fill(0);
  const changes = slots.map((slot): StateChange => {
    versions[slot] = (versions[slot] ?? 0) + 1;
    return { key: keyName(slot), version: versions[slot] ?? 1, temperature: Math.round(random() * 400) / 10 };
  });
  const invocations: ProducerInvocation[] = [];
  const retries: { due: number; changes: readonly StateChange[] }[] = [];
  for (let start = 0, index = 0; start < changes.length; start += plan.chunk, index++) {
    const chunk = changes.slice(start, start + plan.chunk);
    invocations.push({ changes: chunk, retry: false });
    for (const due of retries.filter((retry) => retry.due === index))
      invocations.push({ changes: due.changes, retry: true });
    if (random() < plan.retryRate) retries.push({ due: index + 1 + randomInt(random, 3), changes: chunk });
  }
  const last = Math.ceil(changes.length / plan.chunk);
  for (const late of retries.filter((retry) => retry.due >= last))
    invocations.push({ changes: late.changes, retry: true });
  return invocations;
}

/** The key of slot n: `device-0007`, so keys sort in slot order. */
export function keyName(slot: number): string {
  return `device-${String(slot).padStart(4, '0')}`;
}

/** The highest version produced per key: what each key must end at. */
export function highestVersions(invocations: readonly ProducerInvocation[]): Map<string, number> {
  const highest = new Map<string, number>();
  for (const { changes } of invocations) {
    for (const change of changes) highest.set(change.key, Math.max(highest.get(change.key) ?? 0, change.version));
  }
  return highest;
}
