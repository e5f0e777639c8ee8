/** @module Command dispatch for the `racesafe` CLI. */

const usage = `racesafe: race-safe writes to Amazon DynamoDB, and a lab that proves it

Usage:
  racesafe lab [options]        run every race story naive and safe on a local DynamoDB
  racesafe check <module>       race-test your own handler: concurrency, duplicates, reordering, faults
  racesafe pipeline [options]   producer -> Kinesis -> consumer -> DynamoDB under Lambda's retries, checked
  racesafe --help               show this help

Run 'racesafe <command> --help' for a command's options.`;

/** Runs the CLI and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(usage);
    return command === undefined ? 1 : 0;
  }
  if (command === 'lab') {
    const { runLabCommand } = await import('./lab.js');
    return runLabCommand(rest);
  }
  if (command === 'check') {
    const { runCheckCommand } = await import('./check.js');
    return runCheckCommand(rest);
  }
  if (command === 'pipeline') {
    const { runPipelineCommand } = await import('./pipeline.js');
    return runPipelineCommand(rest);
  }
  console.error(`racesafe: unknown command '${command}'\n\n${usage}`);
  return 2;
}
