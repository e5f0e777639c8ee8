/** @module The "Replay it:" command: the way this process was started, the user's arguments, and the seed to replay. */
import { basename, relative } from 'node:path';

/** How to start racesafe again the way it was started now: `racesafe`, `npx racesafe`, or node with its flags. */
export function invocationPrefix(
  argv: readonly string[] = process.argv,
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  const script = argv[1] ?? 'racesafe';
  if (basename(script) === 'racesafe') return env.npm_command === 'exec' ? 'npx racesafe' : 'racesafe';
  return ['node', ...execArgv, relative(cwd, script) || script].map(shellQuote).join(' ');
}

/**
 * The replay command: the given arguments without the ones that pick seeds or the output (`--runs`, `--seed`,
 * `--json`, `--html`), then `--seed <seed>` and the extra arguments.
 */
export function replayCommand(
  prefix: string,
  command: string,
  args: readonly string[],
  seed: number,
  extra: readonly string[] = [],
): string {
  const kept: string[] = [];
  const dropWithValue = new Set(['--runs', '--seed', '--html']);
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const name = arg.split('=')[0] as string;
    if (dropWithValue.has(name)) {
      if (!arg.includes('=')) index += 1;
      continue;
    }
    if (arg === '--json') continue;
    kept.push(arg);
  }
  return [prefix, command, ...[...kept, '--seed', String(seed), ...extra].map(shellQuote)].join(' ');
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
