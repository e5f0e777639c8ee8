/** @module The engines a lab run targets: DynamoDB Local or dynalite started here, or a given endpoint; kinesalite when a story needs it. */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { probeCapabilities } from '../testing/capabilities.js';
import { type EngineName, localClientConfig, startDynamoDB } from '../testing/dynamodb-engine.js';
import { type KinesisEngine, startKinesis } from '../testing/kinesis-engine.js';
import type { LabTarget } from './runner.js';
import type { Scenario } from './scenario.js';

/** A lab target and the way to stop what was started for it. */
export type LabTargetHandle = LabTarget & { stop(): Promise<void> };

/** `--endpoint` is not a URL, or nothing answers there: the user's mistake, reported in one line. */
export class TargetUnreachable extends Error {
  override readonly name = 'TargetUnreachable';
}

/** Checks `--endpoint` before anything is started: an http(s) URL. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `--endpoint must be a URL such as http://127.0.0.1:8000 (got '${endpoint}')`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `--endpoint must be an http or https URL (got '${endpoint}')`;
  }
  return undefined;
}

/**
 * Starts what the selected scenarios need; `stop()` stops everything started here. Throws {@link TargetUnreachable}
 * when `endpoint` is not a URL or does not answer like DynamoDB.
 */
export async function startTarget(
  engine: EngineName,
  endpoint: string | undefined,
  selected: readonly Scenario[],
): Promise<LabTargetHandle> {
  const problem = endpoint === undefined ? undefined : endpointProblem(endpoint);
  if (problem) throw new TargetUnreachable(problem);
  if (endpoint !== undefined) {
    const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint, maxAttempts: 1 });
    let capabilities: Awaited<ReturnType<typeof probeCapabilities>>;
    try {
      await dynamodb.send(new ListTablesCommand({ Limit: 1 }));
      capabilities = await probeCapabilities(dynamodb);
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      throw new TargetUnreachable(`no DynamoDB answers at --endpoint ${endpoint} (${why})`);
    } finally {
      dynamodb.destroy();
    }
    const needsKinesis = selected.some((scenario) => scenario.requires.includes('kinesis'));
    const kinesis: KinesisEngine | undefined = needsKinesis ? await startKinesis() : undefined;
    const streams = new DynamoDBStreamsClient({ ...localClientConfig, endpoint });
    return {
      name: 'endpoint',
      endpoint,
      capabilities,
      streams,
      kinesis,
      async stop() {
        streams.destroy();
        await kinesis?.stop();
      },
    };
  }
  const db = await startDynamoDB({ engine });
  const needsKinesis = selected.some((scenario) => scenario.requires.includes('kinesis'));
  const kinesis: KinesisEngine | undefined = needsKinesis ? await startKinesis() : undefined;
  return {
    name: db.engine,
    endpoint: db.endpoint,
    capabilities: db.capabilities,
    streams: db.streams,
    kinesis,
    async stop() {
      await db.stop();
      await kinesis?.stop();
    },
  };
}
