/** @module Reads a table's stream as a commit log, so checkers see every change, not just the final state (42 → 41 → 42). */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** One committed change of one item, unmarshalled. */
export interface CommitLogEntry {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly sequenceNumber: string;
  readonly keys: Record<string, unknown>;
  readonly newImage: Record<string, unknown> | undefined;
  readonly oldImage: Record<string, unknown> | undefined;
}

/**
 * Every record of the stream, from its beginning. Within a shard records are in commit order, and DynamoDB keeps all
 * changes of one item in one shard lineage, so per-item order is exact; parents are read before their children.
 *
 * @example
 * ```ts
 * import { readCommitLog, startDynamoDB } from 'racesafe/testing';
 *
 * declare const streamArn: string;
 * const db = await startDynamoDB();
 * const log = await readCommitLog(db.streams, streamArn);
 * ```
 */
export async function readCommitLog(streams: DynamoDBStreamsClient, streamArn: string): Promise<CommitLogEntry[]> {
  const shards: Shard[] = [];
  let ExclusiveStartShardId: string | undefined;
  do {
    const page = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ...(ExclusiveStartShardId ? { ExclusiveStartShardId } : {}) }),
    );
    shards.push(...(page.StreamDescription?.Shards ?? []));
    ExclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
  } while (ExclusiveStartShardId);
  const entries: CommitLogEntry[] = [];
  for (const shard of parentsFirst(shards)) {
    const iterator = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    let next = iterator.ShardIterator;
    // An open shard always returns a next iterator; stop at the first empty page (we read what is committed now).
    while (next) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
      const records = page.Records ?? [];
      for (const record of records) {
        const change = record.dynamodb;
        entries.push({
          eventName: record.eventName as CommitLogEntry['eventName'],
          sequenceNumber: change?.SequenceNumber ?? '',
          keys: unmarshall((change?.Keys ?? {}) as never),
          newImage: change?.NewImage ? unmarshall(change.NewImage as never) : undefined,
          oldImage: change?.OldImage ? unmarshall(change.OldImage as never) : undefined,
        });
      }
      next = records.length === 0 ? undefined : page.NextShardIterator;
    }
  }
  return entries;
}

function parentsFirst(shards: Shard[]): Shard[] {
  const ids = new Set(shards.map((shard) => shard.ShardId));
  const ordered: Shard[] = [];
  const placed = new Set<string | undefined>();
  const place = (shard: Shard) => {
    if (placed.has(shard.ShardId)) return;
    const parent = shards.find((candidate) => candidate.ShardId === shard.ParentShardId);
    if (parent && ids.has(parent.ShardId)) place(parent);
    placed.add(shard.ShardId);
    ordered.push(shard);
  };
  for (const shard of shards) place(shard);
  return ordered;
}

/** A version that went backwards for one item: the commit log shows `to` committed after `from`. */
export interface VersionRegression {
  readonly key: string;
  readonly from: unknown;
  readonly to: unknown;
  readonly sequenceNumber: string;
}

/**
 * Finds every place where an item's version went down (or was rewritten at the same version) in the commit log.
 * A final state can hide such a regression (42 → 41 → 42); the log cannot.
 */
export function versionRegressions(
  log: readonly CommitLogEntry[],
  versionAttribute = 'version',
  options: { readonly allowEqual?: boolean } = {},
): VersionRegression[] {
  const last = new Map<string, unknown>();
  const regressions: VersionRegression[] = [];
  for (const entry of log) {
    const key = JSON.stringify(entry.keys);
    const version = entry.newImage?.[versionAttribute];
    if (version === undefined) continue;
    const previous = last.get(key);
    if (previous !== undefined && typeof previous === typeof version) {
      const backwards = (version as number) < (previous as number);
      const rewritten = !options.allowEqual && version === previous;
      if (backwards || rewritten)
        regressions.push({ key, from: previous, to: version, sequenceNumber: entry.sequenceNumber });
    }
    last.set(key, version);
  }
  return regressions;
}
