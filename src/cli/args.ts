/** @module Argument parsing shared by the racesafe commands: a usage error exits 2 with the help, --help exits 0. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const helpOption = { help: { type: 'boolean', short: 'h' } } as const;

/** What `parseArgs` returns for a command with these options (plus `--help`). */
export type ParsedCommand<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O & typeof helpOption; strict: true; allowPositionals: boolean }>
>;

/**
 * Parses a command's argv strictly. Returns the parsed values and positionals, or an exit code when the command is
 * already finished: 0 after printing `--help`, 2 after printing a usage error followed by the help.
 */
export function parseCommandArgs<const O extends OptionsConfig>(
  command: string,
  help: string,
  argv: readonly string[],
  options: O,
  allowPositionals = false,
): ParsedCommand<O> | 0 | 2 {
  let parsed: ParsedCommand<O>;
  try {
    const args = attachNegativeValues(argv, options);
    parsed = parseArgs({ args, strict: true, allowPositionals, options: { ...options, ...helpOption } });
  } catch (error) {
    console.error(`racesafe ${command}: ${error instanceof Error ? error.message : String(error)}\n\n${help}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return 0;
  }
  return parsed;
}

/**
 * `--runs -3` → `--runs=-3`: parseArgs reads `-3` as an option and says something about ambiguity; joined, the value
 * reaches the command, whose own check names the rule ("--runs must be a whole number >= 1").
 */
export function attachNegativeValues(argv: readonly string[], options: OptionsConfig): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      index += 1;
    } else out.push(arg);
  }
  return out;
}
