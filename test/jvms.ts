/** @module Finds DynamoDB Local JVMs by port, so tests can prove that no engine outlives its owner. */
import { execFileSync } from 'node:child_process';

/** Command lines of the DynamoDB Local JVMs listening on `port` (the shell guard around each one is left out). */
export function jvmsOnPort(port: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', `DynamoDBLocal.jar.*-port ${port}$`], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => /^\d+ \S*java /.test(line));
  } catch {
    return []; // pgrep exits 1 when nothing matches.
  }
}
