/** @module Starts Lambda environments for `racesafe check`: one child process each, a fresh module instance, TypeScript loaded by tsx. */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EnvironmentError, EnvironmentMessage, HostMessage } from './protocol.js';

/** What one invocation came to. */
export type InvocationResult =
  | { readonly status: 'ok' }
  | { readonly status: 'error'; readonly error: EnvironmentError }
  /** The environment died during the invocation (an injected crash, or the module ended its own process). */
  | { readonly status: 'died' };

export interface Environment {
  invoke(event: unknown, requestId: string): Promise<InvocationResult>;
  /** Kills the process (SIGKILL: a crash gives no chance to clean up). */
  kill(): void;
}

/** The module could not be loaded, or has no handler export: bad usage, not a race. */
export class ModuleLoadError extends Error {
  override readonly name = 'ModuleLoadError';
  constructor(
    readonly reason: 'import' | 'export' | 'exit',
    message: string,
  ) {
    super(message);
  }
}

export interface EnvironmentOptions {
  readonly modulePath: string;
  readonly exportName: string;
  /** The environment variables the module sees (on top of a cleaned copy of ours). */
  readonly env: Readonly<Record<string, string>>;
}

const require = createRequire(import.meta.url);

/**
 * The host script: `.ts` beside this file when racesafe runs from source; once built, `dist/cli/environment-host.js`,
 * reached from the bundle this code lands in (`dist/cli/main.js`, or a shared chunk in `dist/`).
 */
function hostScript(): string {
  for (const name of ['environment-host.ts', 'environment-host.js', 'cli/environment-host.js']) {
    const candidate = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new ModuleLoadError('import', 'racesafe is installed without its environment host (environment-host.js)');
}

/** The user's AWS settings must not leak in: a profile or real keys would point the module's clients elsewhere. */
function cleanedEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('AWS_') || name.startsWith('RACESAFE_CHECK_')) continue;
    out[name] = value;
  }
  return out;
}

/** Starts an environment and waits until the module is loaded; rejects with a {@link ModuleLoadError}. */
export function startEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const child = fork(hostScript(), [], {
    execArgv: ['--import', tsx],
    env: {
      ...cleanedEnvironment(),
      ...options.env,
      RACESAFE_CHECK_MODULE: options.modulePath,
      RACESAFE_CHECK_EXPORT: options.exportName,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    if (stderr.length > 50) stderr.shift();
  });
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    const onMessage = (message: HostMessage) => {
      if (message.type === 'ready') {
        cleanup();
        resolve(environmentOf(child));
      } else if (message.type === 'load-error') {
        cleanup();
        child.kill('SIGKILL');
        reject(new ModuleLoadError(message.reason, `${message.error.message}`));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      const tail = stderr.join('').trim().split('\n').slice(-3).join(' / ');
      reject(
        new ModuleLoadError(
          'exit',
          `the module's process ended while loading (exit ${code})${tail ? `: ${tail}` : ''}`,
        ),
      );
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function environmentOf(child: ChildProcess): Environment {
  let nextId = 0;
  const waiting = new Map<number, (result: InvocationResult) => void>();
  let dead = false;
  child.on('message', (message: HostMessage) => {
    if (message.type !== 'result') return;
    const done = waiting.get(message.id);
    waiting.delete(message.id);
    done?.(message.error ? { status: 'error', error: message.error } : { status: 'ok' });
  });
  child.on('exit', () => {
    dead = true;
    for (const done of waiting.values()) done({ status: 'died' });
    waiting.clear();
  });
  return {
    invoke(event, requestId) {
      if (dead) return Promise.resolve({ status: 'died' });
      nextId += 1;
      const id = nextId;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        const message: EnvironmentMessage = { type: 'invoke', id, event, requestId };
        child.send(message, (error) => {
          if (error && waiting.delete(id)) resolve({ status: 'died' });
        });
      });
    },
    kill() {
      if (!dead) child.kill('SIGKILL');
    },
  };
}
