/** @module Keeps the engine and the client on separate cores during a benchmark, where Linux's taskset allows it. */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { DynamoDBEngine } from '../src/testing/dynamodb-engine.js';

/**
 * Pins every process of the engine (DynamoDB Local runs in its own process group) to the last core and this process to
 * the others. On two cores both sides otherwise migrate onto each other's core and the throughput of a round swings by
 * tens of percent; pinned, both variants of a comparison run under the same split. Returns what was done, for the report.
 */
export function pinEngineAndClient(engine: DynamoDBEngine): { readonly report: string; unpin(): void } {
  // Read before pinning: once this process is pinned, availableParallelism() counts only its own cores.
  const allCores = `0-${availableParallelism() - 1}`;
  const pinned: string[] = [];
  const report = pin(engine, pinned);
  // Children inherit this process's cores: release everything pinned before anything else (a fresh engine) starts.
  const unpin = () => {
    for (const pid of pinned) taskset(allCores, pid);
  };
  return { report, unpin };
}

function taskset(cores: string, pid: number | string): void {
  execFileSync('taskset', ['-apc', cores, String(pid)], { stdio: 'ignore' });
}

/** Pins, recording in `pinned` every process it pinned (also when a later step fails). */
function pin(engine: DynamoDBEngine, pinned: string[]): string {
  const cores = availableParallelism();
  if (engine.pid === undefined) return 'not pinned: the engine runs in this process';
  if (process.platform !== 'linux' || cores < 2) return `not pinned: needs Linux and two cores (${cores} here)`;
  const engineCore = String(cores - 1);
  const clientCores = cores === 2 ? '0' : `0-${cores - 2}`;
  try {
    const members = execFileSync('pgrep', ['-g', String(engine.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const pid of members) {
      taskset(engineCore, pid);
      pinned.push(pid);
    }
    taskset(clientCores, process.pid);
    pinned.push(String(process.pid));
  } catch (error) {
    return `not pinned: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
  return `engine pinned to core ${engineCore}, client to ${clientCores}`;
}
