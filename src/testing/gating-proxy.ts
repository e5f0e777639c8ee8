/** @module A local DynamoDB endpoint in front of an engine that gates each request through the seeded scheduler and breaks it with faults, for code whose clients racesafe cannot reach. */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import { sleep } from '../retry/backoff.js';
import { describeRequest, type RequestDescription } from './faults-stack.js';
import { type Random, randomInt, seededRandom } from './random.js';
import { Run } from './scheduler.js';

/** Faults the proxy applies to gated requests, each a probability per attempt, drawn from the race's seed. */
export interface ProxyFaults {
  /** The engine applies the request, the proxy drops the connection before answering (the SDK retries). @default 0 */
  readonly lostResponse?: number;
  /** The proxy answers `ProvisionedThroughputExceededException` without forwarding (the SDK backs off and retries). @default 0 */
  readonly throttling?: number;
  /** The proxy holds the response back 1 to {@link latencyMaxMs} ms. @default 0 */
  readonly latency?: number;
  /** @default 20 */
  readonly latencyMaxMs?: number;
  /**
   * After a write is applied, the environment that sent it dies before it sees the response (its process is killed;
   * Lambda retries the invocation in a fresh environment). At most one crash per race. @default 0
   */
  readonly crash?: number;
}

export interface OpenRaceOptions {
  readonly seed: number;
  /** Workers of the race (Lambda environments): each sends with {@link GatingProxy.credentialsFor}(worker). */
  readonly workers: number;
  /** @default no faults */
  readonly faults?: ProxyFaults;
  /** See `SchedulerOptions.watchdogMs`. @default 20000 */
  readonly watchdogMs?: number;
  /** Called when a worker must die (a crash fault): kill it. */
  readonly onCrash?: (worker: number) => void;
}

/** One request the gate let through, and what became of it. */
export interface TimelineStep {
  readonly worker: number;
  /** What the worker was doing when it sent the request (set with {@link GatedRace.invocationStarted}). */
  readonly invocation: string;
  readonly operation: string;
  readonly table: string | undefined;
  readonly key: Readonly<Record<string, unknown>> | undefined;
  /** A short rendering of what the request writes (an item, an update expression), or '' for reads. */
  readonly detail: string;
  /** `ok`, the engine's error name (`ConditionalCheckFailedException`), or the proxy's `throttled`. */
  readonly outcome: string;
  /** The engine applied the request and the proxy dropped its response. */
  readonly responseLost: boolean;
  /** The worker was killed after this request was applied. */
  readonly crashed: boolean;
}

/** A race under way on the proxy. */
export interface GatedRace {
  /** The worker started an invocation (described by `label`): it is busy until {@link invocationEnded}. */
  invocationStarted(worker: number, label: string): void;
  invocationEnded(worker: number): void;
  /** The worker has nothing more to do. */
  workerSettled(worker: number): void;
  /** Resolves when every worker settled and no request is parked. */
  readonly finished: Promise<void>;
  readonly steps: readonly TimelineStep[];
  /** False when the watchdog had to release a request: the interleaving may not replay from the seed. */
  readonly deterministic: boolean;
  /** Ends the race; later requests pass straight through. */
  close(): void;
}

export interface GatingProxy {
  /** `http://127.0.0.1:port`: set it as `AWS_ENDPOINT_URL_DYNAMODB` (and `AWS_ENDPOINT_URL`). */
  readonly endpoint: string;
  /** Dummy credentials that tell the proxy which worker sent a request (the engine ignores them). */
  credentialsFor(worker: number): { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Starts gating the workers' requests; one race at a time. */
  openRace(options: OpenRaceOptions): GatedRace;
  stop(): Promise<void>;
}

export interface GatingProxyOptions {
  /** The engine's endpoint, e.g. DynamoDB Local's `http://127.0.0.1:8000`. */
  readonly target: string;
  /** Key attributes read from a `PutItem`'s item for the timeline. @default ['pk', 'sk'] */
  readonly keyAttributes?: readonly string[];
}

const optionNames: Record<keyof GatingProxyOptions, true> = { target: true, keyAttributes: true };
const faultNames: Record<keyof ProxyFaults, true> = {
  lostResponse: true,
  throttling: true,
  latency: true,
  latencyMaxMs: true,
  crash: true,
};
const writeOperations = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'ExecuteStatement',
  'ExecuteTransaction',
  'BatchExecuteStatement',
]);
// DynamoDB Local accepts only letters and digits in an access key id.
const accessKeyPrefix = 'racesafeWorker';

/**
 * Starts the proxy on 127.0.0.1. Requests whose SigV4 credential is `credentialsFor(n)` belong to worker n of the open
 * race and wait at the gate; when every busy worker has a request parked, the seeded scheduler picks one, the proxy
 * forwards it, applies the faults drawn for it and answers; then the next pick. Other requests pass straight through.
 * The engine is trusted not to check signatures (DynamoDB Local and dynalite do not).
 *
 * @example
 * ```ts
 * import { startDynamoDB } from 'racesafe/testing';
 * import { startGatingProxy } from 'racesafe/testing';
 *
 * const db = await startDynamoDB();
 * const proxy = await startGatingProxy({ target: db.endpoint });
 * const race = proxy.openRace({ seed: 7, workers: 2, faults: { lostResponse: 0.1 } });
 * // start two processes with AWS_ENDPOINT_URL_DYNAMODB=proxy.endpoint and proxy.credentialsFor(0) / (1) …
 * race.workerSettled(0);
 * race.workerSettled(1);
 * await race.finished;
 * await proxy.stop();
 * await db.stop();
 * ```
 */
export async function startGatingProxy(options: GatingProxyOptions): Promise<GatingProxy> {
  rejectUnknownOptions(options, Object.keys(optionNames), 'startGatingProxy');
  let target: URL;
  try {
    target = new URL(options.target);
  } catch {
    throw invalidOption('startGatingProxy.target', `must be an http URL (got '${options.target}')`);
  }
  const keyAttributes = options.keyAttributes ?? ['pk', 'sk'];
  const agent = new Agent({ keepAlive: true });
  let race: RaceState | undefined;

  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const worker = workerOf(incoming);
      const current = race;
      if (current === undefined || current.run.closed || worker === undefined || worker >= current.workers) {
        forward(target, agent, incoming, body).then(
          (response) => answer(outgoing, response),
          () => outgoing.destroy(),
        );
        return;
      }
      void gated(current, worker, incoming, outgoing, body, target, agent, keyAttributes);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentialsFor: (worker) => ({ accessKeyId: `${accessKeyPrefix}${worker}`, secretAccessKey: 'racesafe' }),
    openRace(raceOptions) {
      if (race !== undefined && !race.run.closed) {
        throw invalidOption('openRace', 'a race is already open on this proxy; close it first');
      }
      race = openRace(raceOptions);
      return race.handle;
    },
    async stop() {
      race?.run.close();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RaceState {
  readonly run: Run & { close(): void };
  readonly workers: number;
  readonly labels: string[];
  readonly steps: TimelineStep[];
  readonly draws: { lost: Random; throttle: Random; latency: Random; crash: Random };
  readonly faults: Required<ProxyFaults>;
  readonly onCrash: (worker: number) => void;
  crashes: number;
  readonly handle: GatedRace;
}

function openRace(options: OpenRaceOptions): RaceState {
  rejectUnknownOptions(options.faults, Object.keys(faultNames), 'openRace.faults');
  const faults: Required<ProxyFaults> = {
    lostResponse: options.faults?.lostResponse ?? 0,
    throttling: options.faults?.throttling ?? 0,
    latency: options.faults?.latency ?? 0,
    latencyMaxMs: options.faults?.latencyMaxMs ?? 20,
    crash: options.faults?.crash ?? 0,
  };
  for (const name of ['lostResponse', 'throttling', 'latency', 'crash'] as const) {
    const p = faults[name];
    if (!(p >= 0 && p <= 1)) throw invalidOption(`openRace.faults.${name}`, 'must be a probability from 0 to 1');
  }
  if (!(Number.isSafeInteger(options.workers) && options.workers >= 1)) {
    throw invalidOption('openRace.workers', 'must be a whole number >= 1');
  }
  const run = new Run(seededRandom(options.seed), options.workers, options.watchdogMs ?? 20_000) as Run & {
    close(): void;
  };
  // A closed race lets everything through (parked requests of a killed worker included).
  run.close = () => {
    run.closed = true;
  };
  const stream = (salt: number) => seededRandom((options.seed ^ Math.imul(salt, 0x9e3779b1)) >>> 0);
  const labels = Array.from({ length: options.workers }, () => '');
  const steps: TimelineStep[] = [];
  const state: RaceState = {
    run,
    workers: options.workers,
    labels,
    steps,
    draws: { lost: stream(11), throttle: stream(12), latency: stream(13), crash: stream(14) },
    faults,
    onCrash: options.onCrash ?? (() => undefined),
    crashes: 0,
    handle: {
      invocationStarted(worker, label) {
        labels[worker] = label;
        run.callStarted(worker);
      },
      invocationEnded: (worker) => run.callEnded(worker),
      workerSettled: (worker) => run.workerSettled(worker),
      finished: run.finished,
      steps,
      get deterministic() {
        return run.watchdogReleases === 0;
      },
      close: () => run.close(),
    },
  };
  return state;
}

async function gated(
  race: RaceState,
  worker: number,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  body: Buffer,
  target: URL,
  agent: Agent,
  keyAttributes: readonly string[],
): Promise<void> {
  const request = describeWireRequest(incoming, body, keyAttributes);
  const entry = await race.run.park(worker, request);
  const invocation = race.labels[worker] ?? '';
  const { draws, faults } = race;
  // Every draw is taken on every step, so that turning one fault off does not shift the others.
  const throttled = draws.throttle() < faults.throttling;
  const lost = draws.lost() < faults.lostResponse;
  const delayMs = draws.latency() < faults.latency ? 1 + randomInt(draws.latency, faults.latencyMaxMs) : 0;
  const crashDraw = draws.crash() < faults.crash;
  const base = {
    worker,
    invocation,
    operation: request.operation,
    table: request.tables.length === 1 ? request.tables[0] : undefined,
    key: request.key,
    detail: describeWrite(request.operation, body, keyAttributes),
  };
  try {
    if (throttled) {
      entry.outcome = 'throttled';
      race.steps.push({ ...base, outcome: 'throttled', responseLost: false, crashed: false });
      answer(outgoing, throttledResponse());
      return;
    }
    let response: ForwardedResponse;
    try {
      response = await forward(target, agent, incoming, body);
    } catch (error) {
      entry.outcome = 'EngineUnreachable';
      race.steps.push({ ...base, outcome: 'engine unreachable', responseLost: false, crashed: false });
      outgoing.destroy(error instanceof Error ? error : undefined);
      return;
    }
    const outcome = response.status === 200 ? 'ok' : errorName(response.body);
    entry.outcome = outcome;
    const applied = response.status === 200 && writeOperations.has(request.operation);
    const crashed = applied && crashDraw && race.crashes === 0;
    const responseLost = !crashed && lost;
    race.steps.push({ ...base, outcome, responseLost, crashed });
    if (crashed) {
      race.crashes += 1;
      race.onCrash(worker);
      outgoing.destroy();
      return;
    }
    if (delayMs > 0) await sleep(delayMs);
    if (responseLost) {
      // The request was applied; the connection drops before the answer: the SDK sees a reset socket and retries.
      incoming.socket.destroy();
      return;
    }
    answer(outgoing, response);
  } finally {
    race.run.responded();
  }
}

interface ForwardedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function forward(target: URL, agent: Agent, incoming: IncomingMessage, body: Buffer): Promise<ForwardedResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...incoming.headers, host: target.host };
    const outgoing = httpRequest(
      { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 500, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function answer(outgoing: ServerResponse, response: ForwardedResponse): void {
  const headers = { ...response.headers };
  delete headers['transfer-encoding'];
  delete headers.connection;
  headers['content-length'] = String(response.body.length);
  outgoing.writeHead(response.status, headers);
  outgoing.end(response.body);
}

function throttledResponse(): ForwardedResponse {
  const body = Buffer.from(
    JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded (simulated by racesafe).',
    }),
  );
  return { status: 400, headers: { 'content-type': 'application/x-amz-json-1.0' }, body };
}

/** The worker of a request, from the access key id in its SigV4 `Authorization` header. */
function workerOf(incoming: IncomingMessage): number | undefined {
  const authorization = incoming.headers.authorization ?? '';
  const match = /Credential=racesafeWorker(\d+)\//.exec(authorization);
  return match ? Number(match[1]) : undefined;
}

/** The operation, table and key of a DynamoDB JSON request (`X-Amz-Target: DynamoDB_20120810.PutItem`). */
export function describeWireRequest(
  incoming: Pick<IncomingMessage, 'headers'>,
  body: Buffer,
  keyAttributes: readonly string[],
): RequestDescription {
  const header = incoming.headers['x-amz-target'];
  const operation = String(Array.isArray(header) ? header[0] : (header ?? 'Unknown')).replace(/^[^.]*\./, '');
  try {
    // The JSON protocol's body is the low-level input, AttributeValue maps and all.
    return describeRequest(operation, parseJson(body), keyAttributes);
  } catch {
    return { operation, tables: [], key: undefined, input: {} };
  }
}

/** What a write carries, short: `{"count":2}` for a put, the update expression and its values for an update. */
function describeWrite(operation: string, body: Buffer, keyAttributes: readonly string[]): string {
  const input = parseJson(body);
  try {
    if (operation === 'PutItem' && input.Item) {
      const item = unmarshall(input.Item);
      for (const name of keyAttributes) delete item[name];
      return clip(JSON.stringify(item));
    }
    if (operation === 'UpdateItem' && typeof input.UpdateExpression === 'string') {
      const values = input.ExpressionAttributeValues ? JSON.stringify(unmarshall(input.ExpressionAttributeValues)) : '';
      return clip(`${input.UpdateExpression} ${values}`.trim());
    }
  } catch {
    return '';
  }
  return '';
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface WireInput {
  TableName?: unknown;
  RequestItems?: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: wire AttributeValue maps, handed to unmarshall
  Key?: any;
  // biome-ignore lint/suspicious/noExplicitAny: wire AttributeValue maps, handed to unmarshall
  Item?: any;
  UpdateExpression?: unknown;
  // biome-ignore lint/suspicious/noExplicitAny: wire AttributeValue maps, handed to unmarshall
  ExpressionAttributeValues?: any;
}

function parseJson(body: Buffer): WireInput {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as WireInput) : {};
  } catch {
    return {};
  }
}

function errorName(body: Buffer): string {
  const type = (parseJson(body) as { __type?: unknown }).__type;
  return typeof type === 'string' ? type.replace(/^.*#/, '') : 'Error';
}
