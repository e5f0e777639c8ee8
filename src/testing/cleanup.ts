/** @module Stops every engine this process started: on stop(), on exit, on an uncaught failure and on SIGINT/SIGTERM. */
import type { ChildProcess } from 'node:child_process';

type Stopper = () => void;

const stoppers = new Set<Stopper>();
let installed = false;

function stopAll(): void {
  for (const stop of [...stoppers]) {
    try {
      stop();
    } catch {
      // Best effort: exiting must not throw.
    }
  }
  stoppers.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  stopAll();
  // We replaced Node's default handler, so restore the default outcome: exit with 128 + signal number.
  if (process.listenerCount(signal) <= 1) process.exit(signal === 'SIGINT' ? 130 : 143);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', stopAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** Registers a synchronous stopper; returns a function that unregisters it. */
export function registerCleanup(stop: Stopper): () => void {
  install();
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Kills a child and its whole process group (the child must have been spawned with `detached: true`). */
export function killProcessGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Resolves once no process of the group led by `pgid` is left, or after `timeoutMs`. The group leader's exit event comes
 * first; the JVM it started, killed in the same breath, can take a moment longer to be torn down and reaped.
 */
export async function processGroupGone(pgid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: the group is empty.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
