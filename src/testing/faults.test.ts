import {
  GetItemCommand,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import {
  createFaults,
  isSimulatedCrash,
  SimulatedCrash,
  SimulatedNetworkError,
  targets,
  transactionConflictError,
} from './faults.js';
import { recordingClients } from './faults.test-handler.js';

const put = (pk: string) => new PutCommand({ TableName: 'items', Item: { pk } });
const get = (pk: string) => new GetCommand({ TableName: 'items', Key: { pk } });
const transfer = new TransactWriteItemsCommand({
  TransactItems: [
    { Put: { TableName: 'accounts', Item: { pk: { S: 'a' } } } },
    { Put: { TableName: 'accounts', Item: { pk: { S: 'b' } } } },
  ],
});

describe('createFaults options', () => {
  it('rejects unknown options, naming the allowed ones', () => {
    expect(() => createFaults({ latnecy: {} } as never)).toThrowError(
      /createFaults\.latnecy: unknown option; allowed:/,
    );
    expect(() => createFaults({ crash: { nht: 2 } } as never)).toThrowError(/createFaults\.crash\.nht/);
  });

  it('rejects out-of-range values with a typed error', () => {
    const attempts = [
      () => createFaults({ lostResponse: { probability: 1.5 } }),
      () => createFaults({ latency: { minMs: 10, maxMs: 5 } }),
      () => createFaults({ crash: { nth: 0 } }),
      () => createFaults({ throttling: { limit: -1 } }),
      () => createFaults({ transactionConflict: { commands: ['PutItem'] } }),
    ];
    for (const attempt of attempts) {
      const error = (() => {
        try {
          attempt();
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(RacesafeError);
      expect((error as RacesafeError).code).toBe('validation.invalidOption');
    }
  });
});

describe('targets', () => {
  const request = { operation: 'PutItem', tables: ['orders'], key: { pk: 'o1' }, input: { TableName: 'orders' } };

  it('matches operations with or without the Command suffix, tables, and a predicate', () => {
    expect(targets({}, request)).toBe(true);
    expect(targets({ commands: ['PutItemCommand'] }, request)).toBe(true);
    expect(targets({ commands: ['GetItem'] }, request)).toBe(false);
    expect(targets({ tables: ['orders', 'stock'] }, request)).toBe(true);
    expect(targets({ tables: ['stock'] }, request)).toBe(false);
    expect(targets({ match: (r) => r.key?.pk === 'o2' }, request)).toBe(false);
  });
});

describe('transactionConflictError', () => {
  it('has the shape DynamoDB returns: one reason per action, TransactionConflict at the conflicting one', () => {
    const error = transactionConflictError(3, 1);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'TransactionConflict', 'None']);
    expect(error.message).toContain('[None, TransactionConflict, None]');
  });
});

describe('fault middleware (requests recorded at the client boundary)', () => {
  it('throttles without sending; the SDK retries the throttled attempt', async () => {
    const { client, sent } = recordingClients();
    const faults = createFaults({ throttling: { limit: 1 } });
    faults.attach(client);
    const output = await client.send(put('a'));
    expect(output.$metadata.attempts).toBe(2);
    expect(sent).toEqual(['PutItem']);
    expect(faults.stats.throttling.injected).toBe(1);
    expect(faults.stats.attempts).toBe(2);
  });

  it('surfaces throttling as ProvisionedThroughputExceededException when retries are exhausted', async () => {
    const { client, sent } = recordingClients({ maxAttempts: 1 });
    createFaults({ throttling: {} }).attach(client);
    await expect(client.send(put('a'))).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(sent).toEqual([]);
  });

  it('cancels a transaction with TransactionConflict without sending it, and the SDK does not retry it', async () => {
    const { dynamodb, sent } = recordingClients();
    const faults = createFaults({ seed: 3, transactionConflict: {} });
    faults.attach(dynamodb);
    const error = await dynamodb.send(transfer).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const codes = (error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
    expect(codes).toHaveLength(2);
    expect(codes?.filter((code) => code === 'TransactionConflict')).toHaveLength(1);
    expect((error as TransactionCanceledException).$metadata.attempts).toBe(1);
    expect(sent).toEqual([]);
    await dynamodb.send(new GetItemCommand({ TableName: 'accounts', Key: { pk: { S: 'a' } } }));
    expect(sent).toEqual(['GetItem']);
    expect(faults.stats.transactionConflict.injected).toBe(1);
  });

  it('loses a response after it was sent; the SDK sends the same request again', async () => {
    const { client, sent } = recordingClients();
    const faults = createFaults({ lostResponse: { limit: 1 } });
    faults.attach(client);
    const output = await client.send(put('a'));
    expect(output.$metadata.attempts).toBe(2);
    expect(sent).toEqual(['PutItem', 'PutItem']);
    expect(faults.stats.lostResponse.injected).toBe(1);
  });

  it('shows the lost response as a transient network error when the SDK may not retry', async () => {
    const { client, sent } = recordingClients({ maxAttempts: 1 });
    createFaults({ lostResponse: {} }).attach(client);
    const error = await client.send(put('a')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SimulatedNetworkError);
    expect((error as SimulatedNetworkError).code).toBe('ECONNRESET');
    expect(sent).toEqual(['PutItem']);
  });

  it('crashes before the nth matching call, which is then not sent', async () => {
    const { client, sent } = recordingClients();
    const faults = createFaults({ crash: { commands: ['PutItem'], nth: 2, when: 'before' } });
    faults.attach(client);
    await client.send(put('first'));
    await client.send(get('first'));
    const error = await client.send(put('second')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SimulatedCrash);
    expect(error).toMatchObject({ operation: 'PutItem', when: 'before' });
    expect(sent).toEqual(['PutItem', 'GetItem']);
    await client.send(put('third'));
    expect(faults.stats.crash.injected).toBe(1);
  });

  it('crashes after the call was sent and answered', async () => {
    const { client, sent } = recordingClients();
    createFaults({ crash: {} }).attach(client);
    await expect(client.send(put('a'))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(sent).toEqual(['PutItem']);
  });

  it('recognises a crash wrapped by the code under test', () => {
    const wrapped = new RacesafeError(
      'service.failure',
      'PutItem failed',
      { operation: 'PutItem', attempts: 1 },
      new SimulatedCrash('PutItem', 'after'),
    );
    expect(isSimulatedCrash(wrapped)).toBe(true);
    expect(isSimulatedCrash(new Error('boom'))).toBe(false);
    expect(isSimulatedCrash(undefined)).toBe(false);
  });

  it('adds latency only to the chosen commands, drawn from the seed', async () => {
    const delays = async (seed: number) => {
      const { client } = recordingClients();
      const faults = createFaults({ seed, latency: { commands: ['GetItem'], minMs: 0, maxMs: 3, at: 'request' } });
      faults.attach(client);
      for (let i = 0; i < 6; i++) {
        await client.send(get(`k${i}`));
        await client.send(put(`k${i}`));
      }
      return faults.stats.latency;
    };
    const first = await delays(11);
    expect(first.injected).toBe(6);
    expect(await delays(11)).toEqual(first);
  });

  it('draws from the seed: the same seed loses the same responses, another seed others', async () => {
    const pattern = async (seed: number) => {
      const { client } = recordingClients({ maxAttempts: 1 });
      createFaults({ seed, lostResponse: { probability: 0.5 } }).attach(client);
      let lost = '';
      for (let i = 0; i < 24; i++) {
        lost += await client.send(put(`k${i}`)).then(
          () => '.',
          () => 'x',
        );
      }
      return lost;
    };
    const seed1 = await pattern(1);
    expect(seed1).toMatch(/x/);
    expect(seed1).toMatch(/\./);
    expect(await pattern(1)).toBe(seed1);
    expect(await pattern(2)).not.toBe(seed1);
  });

  it('attaches once to a DocumentClient and the client it wraps (one stack), and detaches', async () => {
    const { dynamodb, client, sent } = recordingClients();
    const faults = createFaults({});
    const detachDocument = faults.attach(client);
    const detachLowLevel = faults.attach(dynamodb);
    await client.send(put('a'));
    await dynamodb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } }));
    expect(faults.stats.attempts).toBe(2);
    detachDocument();
    await client.send(put('b'));
    expect(faults.stats.attempts).toBe(3); // still attached through the other attachment
    detachLowLevel();
    detachLowLevel(); // idempotent
    await client.send(put('c'));
    expect(faults.stats.attempts).toBe(3);
    expect(sent).toHaveLength(4);
  });
});
