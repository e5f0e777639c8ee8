/** @module Runs one stream's shards: discovers them, starts children after their parents, drains and stops. */
import { RacesafeError } from '../../errors.js';
import type { ResolvedEventSourceOptions } from './options.js';
import { ShardPoller, type ShardReader } from './shard-poller.js';
import { type EventSourceStats, StatsCollector } from './stats.js';
import { Wakeup } from './wakeup.js';

/** A shard as listed by the stream. */
export interface ShardListing {
  readonly shardId: string;
  /** Lambda reads a child only after its parents are read to their end, so records of a key stay in order. */
  readonly parentShardIds: readonly string[];
}

/** What a source (Kinesis, DynamoDB Streams) provides to the runner. */
export interface StreamSource<E, R> extends ShardReader<R> {
  readonly streamArn: string;
  listShards(): Promise<ShardListing[]>;
  /** The Lambda event of a batch of event records. */
  toEvent(records: R[]): E;
}

/** A running local event source mapping. */
export interface EventSourceRunner {
  readonly streamArn: string;
  /**
   * Resolves once every record written before the call has been processed: every shard read to its tip (or finished)
   * by a read that started after the call, the shard list refreshed, and nothing waiting or in flight. Rejects if the
   * runner fails (a read or the onFailure sink threw) or is stopped first.
   */
  drain(): Promise<void>;
  /** Stops reading and invoking; resolves after in-flight invocations end, with no timer left. Idempotent. */
  stop(): Promise<void>;
  stats(): EventSourceStats;
  /** Each started shard's checkpoint: the last sequence number before which every record is done. */
  checkpoints(): Record<string, string | undefined>;
}

interface DrainWaiter {
  readonly mark: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Starts polling every shard and returns once the shards present now have their iterators (so with `LATEST`,
 * records written after this resolves are delivered).
 */
export async function startEventSource<E, R, F>(
  source: StreamSource<E, R>,
  options: ResolvedEventSourceOptions<E, R, F>,
): Promise<EventSourceRunner> {
  const runner = new Runner(source, options);
  try {
    await runner.start();
  } catch (error) {
    await runner.stop();
    throw error;
  }
  return {
    streamArn: source.streamArn,
    drain: () => runner.drain(),
    stop: () => runner.stop(),
    stats: () => runner.stats.snapshot(),
    checkpoints: () => runner.checkpoints(),
  };
}

class Runner<E, R, F> {
  readonly stats = new StatsCollector();
  readonly #source: StreamSource<E, R>;
  readonly #options: ResolvedEventSourceOptions<E, R, F>;
  readonly #pollers = new Map<string, { readonly poller: ShardPoller<E, R, F>; readonly loop: Promise<void> }>();
  readonly #discoveryWakeup = new Wakeup();
  #discovery: Promise<void> | undefined;
  #shards: readonly ShardListing[] = [];
  /** Shards listed at the start read from `startingPosition`; later ones are children, read from their beginning. */
  readonly #initialShards = new Set<string>();
  #listedTick = -1;
  #clock = 0;
  #stopping = false;
  #failure: unknown;
  #waiters: DrainWaiter[] = [];

  constructor(source: StreamSource<E, R>, options: ResolvedEventSourceOptions<E, R, F>) {
    this.#source = source;
    this.#options = options;
  }

  async start(): Promise<void> {
    const opened = await this.#list(true);
    await Promise.all(opened);
    this.#discovery = this.#discover().catch((error: unknown) => this.#fail(error));
  }

  drain(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#stopping) return Promise.reject(stoppedError());
    return new Promise((resolve, reject) => {
      this.#waiters.push({ mark: this.#tick(), resolve, reject });
      // Read now rather than after the current pauses.
      this.#discoveryWakeup.notify();
      for (const { poller } of this.#pollers.values()) poller.wake();
      this.#settleWaiters();
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#discoveryWakeup.notify();
    for (const { poller } of this.#pollers.values()) poller.wake();
    await this.#discovery;
    await Promise.all([...this.#pollers.values()].map(({ loop }) => loop));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(this.#failure ?? stoppedError());
  }

  checkpoints(): Record<string, string | undefined> {
    const checkpoints: Record<string, string | undefined> = {};
    for (const [shardId, { poller }] of this.#pollers) checkpoints[shardId] = poller.checkpoint;
    return checkpoints;
  }

  #tick(): number {
    this.#clock += 1;
    return this.#clock;
  }

  async #discover(): Promise<void> {
    // Listing is cheaper than reading but still a request: not more often than every 100 ms unless drain() asks.
    const pause = Math.max(this.#options.pollIntervalMs, 100);
    while (!this.#stopping) {
      await this.#discoveryWakeup.wait(pause);
      if (this.#stopping) return;
      await this.#list(false);
    }
  }

  /** Lists the shards and starts those now eligible; returns the promises of their opened iterators. */
  async #list(initial: boolean): Promise<Promise<void>[]> {
    const tick = this.#tick();
    this.#shards = await this.#source.listShards();
    if (initial) for (const shard of this.#shards) this.#initialShards.add(shard.shardId);
    this.#listedTick = tick;
    const opened = this.#startEligible();
    this.#settleWaiters();
    return opened;
  }

  /**
   * Starts every listed shard not started yet whose parents are finished or no longer listed (trimmed). Shards that
   * appear after the start are children of a split or merge, which Lambda reads from their beginning.
   */
  #startEligible(): Promise<void>[] {
    const opened: Promise<void>[] = [];
    if (this.#stopping) return opened;
    const listed = new Set(this.#shards.map((shard) => shard.shardId));
    for (const shard of this.#shards) {
      if (this.#pollers.has(shard.shardId)) continue;
      const waitsForParent = shard.parentShardIds.some(
        (parent) => listed.has(parent) && this.#pollers.get(parent)?.poller.finished !== true,
      );
      if (waitsForParent) continue;
      const initial = this.#initialShards.has(shard.shardId);
      const position = { type: initial ? this.#options.startingPosition : 'TRIM_HORIZON' } as const;
      const poller = new ShardPoller(shard.shardId, position, {
        options: this.#options,
        reader: this.#source,
        streamArn: this.#source.streamArn,
        toEvent: (records) => this.#source.toEvent(records),
        stats: this.stats,
        tick: () => this.#tick(),
        changed: () => this.#changed(),
        fail: (error) => this.#fail(error),
        stopping: () => this.#stopping,
      });
      const open = poller.open();
      const loop = open
        .then(() => poller.run())
        .catch((error: unknown) => this.#fail(error))
        .finally(() => this.#changed());
      this.#pollers.set(shard.shardId, { poller, loop });
      opened.push(open);
    }
    return opened;
  }

  #changed(): void {
    this.#startEligible();
    this.#settleWaiters();
  }

  #settleWaiters(): void {
    // Once stop() is called, pending drains end in its rejection, even if the last records finish meanwhile.
    if (this.#waiters.length === 0 || this.#stopping) return;
    const pending: DrainWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#drainedSince(waiter.mark)) waiter.resolve();
      else pending.push(waiter);
    }
    this.#waiters = pending;
  }

  #drainedSince(mark: number): boolean {
    if (this.#listedTick < mark) return false;
    return this.#shards.every((shard) => {
      const poller = this.#pollers.get(shard.shardId)?.poller;
      if (poller === undefined) return false;
      return poller.finished || (poller.caughtUpTick > mark && poller.idle);
    });
  }

  #fail(error: unknown): void {
    if (this.#failure === undefined) {
      this.#failure =
        error instanceof RacesafeError
          ? error
          : new RacesafeError(
              'service.failure',
              `the event source stopped: ${error instanceof Error ? error.message : String(error)}`,
              { operation: 'eventSource', attempts: 1 },
              error,
            );
    }
    this.#stopping = true;
    this.#discoveryWakeup.notify();
    for (const { poller } of this.#pollers.values()) poller.wake();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(this.#failure);
  }
}

function stoppedError(): RacesafeError<'eventSource.stopped'> {
  return new RacesafeError('eventSource.stopped', 'the event source was stopped before it drained', {});
}
