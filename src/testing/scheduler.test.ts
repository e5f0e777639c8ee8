import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { sleep } from '../retry/backoff.js';
import { createFaults, SimulatedCrash } from './faults.js';
import { recordingClients } from './faults.test-handler.js';
import { createScheduler, formatTrace, type TraceEntry } from './scheduler.js';

const get = (pk: string) => new GetCommand({ TableName: 'items', Key: { pk } });
const put = (pk: string) => new PutCommand({ TableName: 'items', Item: { pk } });

/** Three workers, each a read then a write of its own key, on a client that never leaves the process. */
async function threeReadWriteWorkers(seed: number, sleeps: readonly number[] = [0, 0, 0]) {
  const { client } = recordingClients();
  const scheduler = createScheduler({ seed });
  scheduler.attach(client);
  return scheduler.run(
    sleeps.map((ms) => async ({ worker }) => {
      await client.send(get(`k${worker}`));
      await sleep(ms);
      await client.send(put(`k${worker}`));
      return worker;
    }),
  );
}

const shape = (trace: readonly TraceEntry[]) => trace.map((entry) => `${entry.worker}:${entry.operation}`);

describe('createScheduler', () => {
  it('rejects unknown and invalid options', () => {
    expect(() => createScheduler({ sed: 1 } as never)).toThrowError(/createScheduler\.sed: unknown option/);
    expect(() => createScheduler({ watchdogMs: 0 })).toThrowError(RacesafeError);
  });

  it('lets every request through once, one at a time, and records who sent what', async () => {
    const run = await threeReadWriteWorkers(5);
    expect(run.results).toEqual([0, 1, 2].map((value) => ({ status: 'fulfilled', value })));
    expect(run.deterministic).toBe(true);
    expect(run.trace).toHaveLength(6);
    for (const worker of [0, 1, 2]) {
      const own = run.trace.filter((entry) => entry.worker === worker);
      expect(own).toEqual([
        { worker, operation: 'GetItem', table: 'items', key: { pk: `k${worker}` }, outcome: 'ok' },
        { worker, operation: 'PutItem', table: 'items', key: { pk: `k${worker}` }, outcome: 'ok' },
      ]);
    }
  });

  it('gives the same interleaving for the same seed, and different ones across seeds', async () => {
    const first = await threeReadWriteWorkers(42);
    expect((await threeReadWriteWorkers(42)).trace).toEqual(first.trace);
    const shapes = new Set<string>();
    for (let seed = 0; seed < 10; seed++) shapes.add(shape((await threeReadWriteWorkers(seed)).trace).join(' '));
    expect(shapes.size).toBeGreaterThanOrEqual(4);
  });

  it('waits for sleeping workers, so timing does not change the interleaving', async () => {
    const fastFirst = await threeReadWriteWorkers(9, [0, 5, 15]);
    const slowFirst = await threeReadWriteWorkers(9, [15, 5, 0]);
    expect(slowFirst.trace).toEqual(fastFirst.trace);
    expect(slowFirst.deterministic).toBe(true);
  });

  it('passes requests sent outside run straight through', async () => {
    const { client, sent } = recordingClients();
    const scheduler = createScheduler();
    scheduler.attach(client);
    await client.send(put('setup'));
    const run = await scheduler.run([async () => client.send(get('setup'))]);
    await client.send(get('checker'));
    expect(sent).toEqual(['PutItem', 'GetItem', 'GetItem']);
    expect(shape(run.trace)).toEqual(['0:GetItem']);
  });

  it('schedules requests a worker sends at once, deterministically', async () => {
    const traceFor = async () => {
      const { client } = recordingClients();
      const scheduler = createScheduler({ seed: 3 });
      scheduler.attach(client);
      const fanOut = async () => Promise.all(['a', 'b', 'c'].map((pk) => client.send(get(pk))));
      return (await scheduler.run([fanOut, fanOut])).trace;
    };
    const trace = await traceFor();
    expect(trace).toHaveLength(6);
    expect(await traceFor()).toEqual(trace);
  });

  it('schedules each SDK retry again: a lost response shows as two attempts', async () => {
    const { client, sent } = recordingClients();
    const scheduler = createScheduler({ seed: 1 });
    scheduler.attach(client);
    createFaults({ lostResponse: { limit: 1 } }).attach(client);
    const run = await scheduler.run([async () => client.send(put('a'))]);
    expect(run.trace.map((entry) => entry.outcome)).toEqual(['SimulatedNetworkError', 'ok']);
    expect(sent).toEqual(['PutItem', 'PutItem']);
  });

  it('reports a crashed worker as rejected and lets the others finish', async () => {
    const { client } = recordingClients();
    const scheduler = createScheduler({ seed: 2 });
    scheduler.attach(client);
    createFaults({ crash: { match: (request) => request.key?.pk === 'doomed' } }).attach(client);
    const run = await scheduler.run([
      async () => {
        await client.send(put('doomed'));
        await client.send(put('never'));
      },
      async () => {
        await client.send(put('survivor'));
      },
    ]);
    expect(run.results[0]?.status).toBe('rejected');
    expect(run.results[0]?.status === 'rejected' && run.results[0].reason).toBeInstanceOf(SimulatedCrash);
    expect(run.results[1]?.status).toBe('fulfilled');
    expect(run.trace.map((entry) => entry.key?.pk).sort()).toEqual(['doomed', 'survivor']);
  });

  it('releases a request when a worker waits outside the gate, and marks the run nondeterministic', async () => {
    const { client } = recordingClients();
    const scheduler = createScheduler({ watchdogMs: 20 });
    scheduler.attach(client);
    let firstWrite!: () => void;
    const written = new Promise<void>((resolve) => {
      firstWrite = resolve;
    });
    const run = await scheduler.run([
      async () => {
        await client.send(put('a'));
        firstWrite();
      },
      // Waits on worker 0 without a request at the gate: without the watchdog this run would never end.
      async () => {
        await written;
        await client.send(put('b'));
      },
    ]);
    expect(run.deterministic).toBe(false);
    expect(run.watchdogReleases).toBe(1);
    expect(shape(run.trace)).toEqual(['0:PutItem', '1:PutItem']);
  });

  it('settles a worker that throws synchronously, and refuses a second concurrent run', async () => {
    const scheduler = createScheduler();
    const blocking = scheduler.run([() => sleep(5)]);
    await expect(scheduler.run([])).rejects.toMatchObject({ code: 'validation.invalidInput' });
    await blocking;
    const run = await scheduler.run([
      () => {
        throw new Error('sync');
      },
    ]);
    expect(run.results[0]?.status).toBe('rejected');
  });
});

describe('formatTrace', () => {
  it('prints one line per step', () => {
    const trace: TraceEntry[] = [
      { worker: 1, operation: 'GetItem', table: 'items', key: { pk: 'a' }, outcome: 'ok' },
      {
        worker: 0,
        operation: 'TransactWriteItems',
        table: undefined,
        key: undefined,
        outcome: 'TransactionCanceledException',
      },
    ];
    expect(formatTrace(trace)).toBe(
      '0 w1 GetItem items {"pk":"a"} ok\n1 w0 TransactWriteItems - - TransactionCanceledException',
    );
  });
});
