/** @module Vitest global setup: one engine per integration project, shared by its test files (each uses its own tables). */
import type { TestProject } from 'vitest/node';
import type { EngineCapabilities } from '../src/testing/capabilities.js';
import { startDynamoDB } from '../src/testing/dynamodb-engine.js';
import { hasJava } from '../src/testing/java.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engine: { name: 'dynamodb-local' | 'dynalite'; endpoint: string; capabilities: EngineCapabilities };
  }
}

export default async function setup(project: TestProject) {
  // Global setup runs in the main process, where the project's `test.env` is not applied: read it from the config.
  const requested = project.config.env?.RACESAFE_TEST_ENGINE === 'dynalite' ? 'dynalite' : 'dynamodb-local';
  let engine: 'dynamodb-local' | 'dynalite' = requested;
  if (requested === 'dynamodb-local' && !hasJava()) {
    // On CI a missing Java must fail the run: silently testing on a weaker engine would hide real gaps.
    if (process.env.CI) throw new Error('CI is set and Java is missing: the DynamoDB Local tests cannot run.');
    console.warn('[racesafe] Java not found: the dynamodb-local project runs on dynalite, skipping what it lacks.');
    engine = 'dynalite';
  }
  const db = await startDynamoDB({ engine });
  project.provide('engine', { name: db.engine, endpoint: db.endpoint, capabilities: db.capabilities });
  return () => db.stop();
}
