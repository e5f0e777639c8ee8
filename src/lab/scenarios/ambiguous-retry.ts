/** @module Scenario: responses lost after commit, retried by the SDK; a write token keeps each charge applied exactly once. */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decrement } from '../../expression/update.js';
import { isConditionalCheckFailed } from '../../retry/backoff.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { randomInt } from '../../testing/random.js';
import { guardedUpdate } from '../../write/guarded-update.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const workers = 4;
const chargesPerWorker = 3;
const balance = 1000;

export const ambiguousRetry: Scenario = {
  name: 'ambiguous-retry',
  summary: `${workers} workers charge one wallet while 40% of responses are lost after commit and the SDK retries; naive conditional updates charge twice or misreport, write tokens apply each charge once.`,
  invariant: 'the balance equals the starting balance minus the charges callers were told succeeded',
  requires: ['transactions'],
  faults: () => ({ lostResponse: { commands: ['UpdateItem', 'TransactWriteItems'], probability: 0.4 } }),
  async run(context) {
    const { table, name } = await context.table();
    const key = { pk: 'wallet' };
    await context.setupClient.send(new PutCommand({ TableName: name, Item: { ...key, balance } }));
    let believedCharged = 0;
    const charge = async (amount: number) => {
      if (context.variant === 'safe') {
        const outcome = await guardedUpdate(table, key, {
          changes: { balance: decrement(amount) },
          require: { balance: { gte: amount } },
        });
        if (outcome.status === 'applied') believedCharged += amount;
        return;
      }
      try {
        await context.client.send(
          new UpdateCommand({
            TableName: name,
            Key: key,
            UpdateExpression: 'SET balance = balance - :amount',
            ConditionExpression: 'balance >= :amount',
            ExpressionAttributeValues: { ':amount': amount },
          }),
        );
        believedCharged += amount;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error; // "declined": the caller believes nothing was charged
      }
    };
    const amounts = Array.from({ length: workers }, () =>
      Array.from({ length: chargesPerWorker }, () => 1 + randomInt(context.random, 50)),
    );
    const run = await context.race(
      amounts.map((list) => async () => {
        for (const amount of list) await charge(amount);
      }),
    );
    const { Item } = await context.setupClient.send(
      new GetCommand({ TableName: name, Key: key, ConsistentRead: true }),
    );
    const actual = balance - Number(Item?.balance);
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (actual !== believedCharged) {
      anomalies.push(`callers were told ${believedCharged} was charged; the wallet lost ${actual}`);
    }
    return { anomalies };
  },
};
