/** @module Starts kinesalite, a pure-Node Kinesis, in this process. */
import type { Server } from 'node:http';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { registerCleanup } from './cleanup.js';
import { localClientConfig } from './dynamodb-engine.js';
import { freePort } from './ports.js';

export interface StartKinesisOptions {
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Milliseconds kinesalite takes to create a stream (it simulates CREATING). @default 0 */
  readonly createStreamMs?: number;
}

export interface KinesisEngine {
  readonly endpoint: string;
  /** A Kinesis client on HTTP/1.1: kinesalite does not speak the HTTP/2 the SDK's default Kinesis handler uses. */
  readonly client: KinesisClient;
  stop(): Promise<void>;
}

/**
 * Starts kinesalite on a free port. Name streams by name, not ARN: kinesalite ignores ARNs.
 *
 * @example
 * ```ts
 * import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
 * import { startKinesis } from 'racesafe/testing';
 *
 * const kinesis = await startKinesis();
 * await kinesis.client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 2 }));
 * await kinesis.stop();
 * ```
 */
export async function startKinesis(options: StartKinesisOptions = {}): Promise<KinesisEngine> {
  const { default: kinesalite } = (await import('kinesalite')) as { default: (options: object) => Server };
  const port = options.port ?? (await freePort());
  const createStreamMs = options.createStreamMs ?? 0;
  const server = kinesalite({ createStreamMs, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new KinesisClient({ ...localClientConfig, endpoint, requestHandler: new NodeHttpHandler() });
  const close = () => {
    server.closeAllConnections?.();
    server.close();
  };
  const unregister = registerCleanup(close);
  return {
    endpoint,
    client,
    async stop() {
      unregister();
      client.destroy();
      close();
    },
  };
}

/**
 * Waits until a new stream is ACTIVE: Kinesis (and kinesalite, even with `createStreamMs: 0`) creates streams
 * asynchronously, and writing to a stream that is still CREATING fails with ResourceNotFoundException.
 *
 * @example
 * ```ts
 * import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
 * import { startKinesis, waitForActiveStream } from 'racesafe/testing';
 *
 * const kinesis = await startKinesis();
 * await kinesis.client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 2 }));
 * await waitForActiveStream(kinesis.client, 'events');
 * ```
 */
export async function waitForActiveStream(client: KinesisClient, streamName: string): Promise<void> {
  for (;;) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
