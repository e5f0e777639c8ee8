/**
 * @module Benchmark: racesafe's own client CPU per call, with a client whose `send` resolves at once, so that neither
 * the AWS SDK nor the engine is in the measurement. Information beside the ratios: it is the part racesafe adds.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decrement } from '../src/expression/update.js';
import { defineTable } from '../src/table.js';
import { guardedUpdate } from '../src/write/guarded-update.js';
import { putIfNewer } from '../src/write/put-if-newer.js';
import { closedLoop, quantile } from './harness.js';

export interface OverheadRow {
  readonly call: string;
  /** Median over rounds of (racesafe call − bare `send`), µs of CPU per call, with quartiles. */
  readonly micros: number;
  readonly quartiles: readonly [number, number];
}

export async function benchOverhead(options: { ops?: number; rounds?: number } = {}): Promise<OverheadRow[]> {
  const ops = options.ops ?? 50_000;
  const rounds = options.rounds ?? 25;
  const client = {
    send: async () => ({ Attributes: { pk: 'sku', quantity: 1 } }),
  } as unknown as DynamoDBDocumentClient;
  const table = defineTable({ client, name: 'bench', partitionKey: 'pk' });
  let version = 0;
  const item = (i: number) => ({ pk: `k${i % 1000}`, version: ++version, payload: 'x'.repeat(100) });
  const calls: Record<string, (i: number) => Promise<unknown>> = {
    putIfNewer: (i) => putIfNewer(table, item(i)),
    guardedUpdate: (i) =>
      guardedUpdate(
        table,
        { pk: `sku${i % 100}` },
        { changes: { quantity: decrement(1) }, require: { quantity: { gte: 1 } } },
      ),
  };
  const bare = (i: number) => client.send(item(i) as never);
  const cpu = async (op: (i: number) => Promise<unknown>) => {
    const start = process.cpuUsage();
    await closedLoop(ops, 16, op);
    const used = process.cpuUsage(start);
    return (used.user + used.system) / ops;
  };
  const rows: OverheadRow[] = [];
  for (const [call, op] of Object.entries(calls)) {
    const extra: number[] = [];
    for (let round = 0; round < rounds + 5; round++) {
      const difference = (await cpu(op)) - (await cpu(bare));
      if (round >= 5) extra.push(difference); // the first rounds warm the JIT up
    }
    rows.push({ call, micros: quantile(extra, 0.5), quartiles: [quantile(extra, 0.25), quantile(extra, 0.75)] });
  }
  return rows;
}

export function printOverhead(rows: readonly OverheadRow[]): void {
  console.log("\nracesafe's own client CPU per call (send stubbed out: no AWS SDK, no engine)");
  for (const row of rows) {
    const [low, high] = row.quartiles;
    console.log(`  ${row.call}: ${row.micros.toFixed(1)} µs (quartiles ${low.toFixed(1)}-${high.toFixed(1)})`);
  }
}
