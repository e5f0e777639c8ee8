/** @module Finds the Java runtime that DynamoDB Local needs. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The java executable to use: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on the PATH. */
export function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

let cached: boolean | undefined;

/** True when a Java runtime answers `java -version`. The answer is cached for the life of the process. */
export function hasJava(): boolean {
  cached ??= spawnSync(javaExecutable(), ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return cached;
}
