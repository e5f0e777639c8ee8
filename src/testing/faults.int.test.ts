import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itWhen, useEngine } from '../../test/engine.js';
import { localClientConfig } from './dynamodb-engine.js';
import { createFaults, isSimulatedCrash } from './faults.js';
import { createTable, deleteTable, uniqueTableName } from './tables.js';

const engine = useEngine();
const TableName = uniqueTableName('faults');
// A client that may not retry: what a caller sees from one attempt.
const singleAttempt = DynamoDBDocumentClient.from(
  new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint, maxAttempts: 1 }),
);

beforeAll(async () => {
  await createTable(engine.dynamodb, { name: TableName, partitionKey: 'pk' });
});
afterAll(async () => {
  await deleteTable(engine.dynamodb, TableName);
  singleAttempt.destroy();
});

const increment = (pk: string) =>
  new UpdateCommand({
    TableName,
    Key: { pk },
    UpdateExpression: 'ADD #n :one',
    ExpressionAttributeNames: { '#n': 'n' },
    ExpressionAttributeValues: { ':one': 1 },
    ReturnValues: 'ALL_NEW',
  });

async function stored(pk: string) {
  return (await engine.client.send(new GetCommand({ TableName, Key: { pk }, ConsistentRead: true }))).Item;
}

describe('lost response after commit', () => {
  it('makes the engine apply a write, and the SDK send it again: one ADD call counts 2', async () => {
    const faults = createFaults({ lostResponse: { commands: ['UpdateItem'], limit: 1 } });
    const detach = faults.attach(engine.client);
    try {
      const output = await engine.client.send(increment('lost-add'));
      expect(output.$metadata.attempts).toBe(2);
      expect(output.Attributes?.n).toBe(2);
    } finally {
      detach();
    }
    expect(faults.stats.lostResponse.injected).toBe(1);
    expect((await stored('lost-add'))?.n).toBe(2);
  });

  it('turns a first-time conditional put into ConditionalCheckFailed: the retry meets its own write', async () => {
    const faults = createFaults({ lostResponse: { limit: 1 } });
    const detach = faults.attach(engine.dynamodb); // the low-level client: the DocumentClient shares its stack
    try {
      const put = new PutCommand({
        TableName,
        Item: { pk: 'lost-put', owner: 'me' },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      await expect(engine.client.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    } finally {
      detach();
    }
    expect(await stored('lost-put')).toEqual({ pk: 'lost-put', owner: 'me' });
  });
});

describe('faults that are not sent', () => {
  it('throttles an attempt without sending it', async () => {
    const faults = createFaults({ throttling: { commands: ['UpdateItem'] } });
    const detach = faults.attach(singleAttempt);
    try {
      await expect(singleAttempt.send(increment('throttled'))).rejects.toBeInstanceOf(
        ProvisionedThroughputExceededException,
      );
    } finally {
      detach();
    }
    expect(await stored('throttled')).toBeUndefined();
  });

  it('lets the SDK retry a throttled attempt: the write is applied once', async () => {
    const faults = createFaults({ throttling: { limit: 1 } });
    const detach = faults.attach(engine.client);
    try {
      const output = await engine.client.send(increment('throttled-once'));
      expect(output.$metadata.attempts).toBe(2);
    } finally {
      detach();
    }
    expect((await stored('throttled-once'))?.n).toBe(1);
  });

  itWhen(['transactions'])('cancels a transaction with TransactionConflict without sending it', async () => {
    const faults = createFaults({ seed: 4, transactionConflict: {} });
    const detach = faults.attach(engine.client);
    let error: unknown;
    try {
      error = await engine.client
        .send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName, Item: { pk: 'tx-a', n: 1 } } },
              { Put: { TableName, Item: { pk: 'tx-b', n: 1 } } },
            ],
          }),
        )
        .catch((caught: unknown) => caught);
    } finally {
      detach();
    }
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    expect(reasons.map((reason) => reason.Code).sort()).toEqual(['None', 'TransactionConflict']);
    expect((error as TransactionCanceledException).$metadata.attempts).toBe(1);
    expect(await stored('tx-a')).toBeUndefined();
    expect(await stored('tx-b')).toBeUndefined();
  });
});

describe('crash between steps', () => {
  it('stops a worker after its first write: the first write is stored, the second never happens', async () => {
    const faults = createFaults({ crash: { commands: ['PutItem'], nth: 1, when: 'after' } });
    const detach = faults.attach(engine.client);
    const twoWrites = async () => {
      await engine.client.send(new PutCommand({ TableName, Item: { pk: 'debit' } }));
      await engine.client.send(new PutCommand({ TableName, Item: { pk: 'credit' } }));
    };
    let error: unknown;
    try {
      error = await twoWrites().catch((caught: unknown) => caught);
    } finally {
      detach();
    }
    expect(isSimulatedCrash(error)).toBe(true);
    expect(await stored('debit')).toEqual({ pk: 'debit' });
    expect(await stored('credit')).toBeUndefined();
  });
});
