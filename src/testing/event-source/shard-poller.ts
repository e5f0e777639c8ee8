/** @module Reads one shard and feeds its records to concurrent per-key lanes, tracking the shard's checkpoint. */
import { createHash } from 'node:crypto';
import { awsErrorName } from '../../retry/backoff.js';
import { seededRandom } from '../random.js';
import { type BatchProcessorContext, processBatch, type SourceRecord } from './batch-processor.js';
import type { ResolvedEventSourceOptions } from './options.js';
import type { StatsCollector } from './stats.js';
import { Wakeup } from './wakeup.js';

/** Where a shard iterator starts. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** The reads a source must provide: the thin, sending part of each source. */
export interface ShardReader<R> {
  iterator(shardId: string, position: ShardPosition): Promise<string | undefined>;
  /** One GetRecords call; `nextIterator` is undefined once a closed shard has been read to its end. */
  read(
    shardId: string,
    iterator: string,
    limit: number,
  ): Promise<{ records: SourceRecord<R>[]; nextIterator: string | undefined }>;
}

/** What a poller shares with its runner. */
export interface ShardPollerContext<E, R, F> {
  readonly options: ResolvedEventSourceOptions<E, R, F>;
  readonly reader: ShardReader<R>;
  readonly streamArn: string;
  readonly toEvent: (records: R[]) => E;
  readonly stats: StatsCollector;
  /** A counter that orders reads against `drain()` calls. */
  readonly tick: () => number;
  /** Something changed: a read finished, records were done, the shard finished. */
  readonly changed: () => void;
  /** A read, or the onFailure sink, failed: the runner stops and reports it. */
  readonly fail: (error: unknown) => void;
  readonly stopping: () => boolean;
}

interface Lane<R> {
  readonly queue: SourceRecord<R>[];
  running: Promise<void> | undefined;
  readonly context: BatchProcessorContext<unknown, R, unknown>;
}

/**
 * One shard: a read loop that keeps at most `batchSize × parallelizationFactor` records waiting or in flight, and
 * `parallelizationFactor` lanes. A record goes to the lane chosen by a hash of its partition key, and each lane runs
 * its batches one after another, so one key's records are processed in order (Lambda: "in-order processing at the
 * partition-key level"). The checkpoint is the last sequence number before which every record is done, however the
 * lanes interleave.
 */
export class ShardPoller<E, R, F> {
  readonly shardId: string;
  /** Tick at the start of the last read that found nothing new (-1: none yet). */
  caughtUpTick = -1;
  /** The shard is closed and every record of it is done: its children may start. */
  finished = false;
  readonly #context: ShardPollerContext<E, R, F>;
  readonly #lanes: Lane<R>[];
  readonly #wakeup = new Wakeup();
  /** Records read and not yet done, in sequence order; `done` holds the ids already done among them. */
  #unfinished: SourceRecord<R>[] = [];
  #unfinishedStart = 0;
  readonly #done = new Set<string>();
  /** Records read and not done (queued or in flight): what bounds reading ahead, not the distance to the checkpoint. */
  #outstanding = 0;
  #checkpoint: string | undefined;
  #iterator: string | undefined;
  #lastRead: string | undefined;
  readonly #position: ShardPosition;

  constructor(shardId: string, position: ShardPosition, context: ShardPollerContext<E, R, F>) {
    this.shardId = shardId;
    this.#position = position;
    this.#context = context;
    const { options } = context;
    this.#lanes = Array.from({ length: options.parallelizationFactor }, (_, index) => ({
      queue: [],
      running: undefined,
      context: {
        options: options as unknown as ResolvedEventSourceOptions<unknown, R, unknown>,
        shardId,
        streamArn: context.streamArn,
        toEvent: context.toEvent as (records: R[]) => unknown,
        stats: context.stats,
        random: seededRandom(hash32(`${options.faults.seed}:${shardId}:${index}`)),
        markDone: (records) => this.#markDone(records),
        stopping: context.stopping,
      },
    }));
  }

  /** The last sequence number before which every record read is done (undefined until one is). */
  get checkpoint(): string | undefined {
    return this.#checkpoint;
  }

  /** Nothing read is waiting or being processed. */
  get idle(): boolean {
    return this.#unfinished.length === this.#unfinishedStart && this.#lanes.every((lane) => lane.running === undefined);
  }

  /** Opens the shard iterator (before `run`, so a LATEST position is fixed when the runner starts). */
  async open(): Promise<void> {
    this.#iterator = await this.#context.reader.iterator(this.shardId, this.#position);
  }

  /** Ends the current pause between reads. */
  wake(): void {
    this.#wakeup.notify();
  }

  /** The read loop; resolves when the runner stops or the shard is finished, after every lane has stopped. */
  async run(): Promise<void> {
    try {
      await this.#readLoop();
    } finally {
      await Promise.all(this.#lanes.map((lane) => lane.running));
    }
  }

  async #readLoop(): Promise<void> {
    const { options, reader, stopping } = this.#context;
    const capacity = options.batchSize * options.parallelizationFactor;
    while (!stopping()) {
      if (this.#iterator === undefined) {
        // The shard is closed and read to its end: it is finished once every record read from it is done.
        if (this.idle) {
          this.finished = true;
          this.#context.changed();
          return;
        }
        await this.#wakeup.wait();
        continue;
      }
      // A lane held back by a slow key must not stop the other lanes, so only records not done count here.
      const waiting = this.#outstanding;
      if (waiting >= capacity) {
        await this.#wakeup.wait();
        continue;
      }
      const readTick = this.#context.tick();
      let page: Awaited<ReturnType<ShardReader<R>['read']>>;
      try {
        page = await reader.read(this.shardId, this.#iterator, capacity - waiting);
      } catch (error) {
        if (awsErrorName(error) !== 'ExpiredIteratorException') throw error;
        // Iterators expire after 5 minutes: reopen after the last record read.
        const position: ShardPosition =
          this.#lastRead === undefined
            ? this.#position
            : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.#lastRead };
        this.#iterator = await reader.iterator(this.shardId, position);
        continue;
      }
      this.#iterator = page.nextIterator;
      for (const record of page.records) this.#enqueue(record);
      // Lanes start after the whole page is queued, so a batch holds up to batchSize of the records just read.
      for (const lane of this.#lanes) if (lane.queue.length > 0) this.#startLane(lane);
      if (page.records.length === 0 && page.nextIterator !== undefined) {
        this.caughtUpTick = readTick;
        this.#context.changed();
        await this.#wakeup.wait(options.pollIntervalMs);
      }
    }
  }

  #enqueue(record: SourceRecord<R>): void {
    this.#lastRead = record.sequenceNumber;
    this.#unfinished.push(record);
    this.#outstanding += 1;
    const lane = this.#lanes[hash32(record.partitionKey) % this.#lanes.length] as Lane<R>;
    lane.queue.push(record);
  }

  #startLane(lane: Lane<R>): void {
    // `.finally` runs its callback asynchronously, so `running` is always set before it is cleared.
    lane.running ??= this.#runLane(lane)
      .catch((error: unknown) => this.#context.fail(error))
      .finally(() => {
        lane.running = undefined;
        this.#wakeup.notify();
        this.#context.changed();
      });
  }

  async #runLane(lane: Lane<R>): Promise<void> {
    while (lane.queue.length > 0 && !this.#context.stopping()) {
      const batch = lane.queue.splice(0, this.#context.options.batchSize);
      await processBatch(batch, lane.context);
    }
  }

  #markDone(records: readonly SourceRecord<R>[]): void {
    for (const record of records) this.#done.add(record.id);
    this.#outstanding -= records.length;
    while (this.#unfinishedStart < this.#unfinished.length) {
      const head = this.#unfinished[this.#unfinishedStart] as SourceRecord<R>;
      if (!this.#done.delete(head.id)) break;
      this.#checkpoint = head.sequenceNumber;
      this.#unfinishedStart += 1;
    }
    if (this.#unfinishedStart > 1024 && this.#unfinishedStart * 2 > this.#unfinished.length) {
      this.#unfinished = this.#unfinished.slice(this.#unfinishedStart);
      this.#unfinishedStart = 0;
    }
    this.#wakeup.notify();
  }
}

/** A stable 32-bit hash (the first bytes of MD5, the hash Kinesis itself applies to partition keys). */
export function hash32(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0);
}
