/** @module Scenario: transfers between two accounts with a crash between steps; one transaction keeps the total. */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RacesafeError } from '../../errors.js';
import { decrement, increment } from '../../expression/update.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { randomInt } from '../../testing/random.js';
import { transaction } from '../../transaction/builder.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const workers = 4;
const transfersPerWorker = 3;
const opening = 100;
const debit = 'SET balance = balance - :a';

export const transfer: Scenario = {
  name: 'multi-item-invariant',
  summary: `${workers} workers move money between two accounts while one worker crashes between its two writes and transactions hit TransactionConflict; two separate writes lose money, one transaction never does.`,
  invariant: `the two balances add up to ${opening * 2} and neither goes below 0`,
  requires: ['transactions'],
  faults: (seed) => ({
    // A worker dies right after its nth debit (naive: between the two writes) or its nth transaction (safe).
    crash: {
      commands: ['UpdateItem', 'TransactWriteItems'],
      match: (request) => request.operation === 'TransactWriteItems' || request.input.UpdateExpression === debit,
      nth: 1 + (seed % 3),
      when: 'after',
    },
    transactionConflict: { probability: 0.2 },
  }),
  async run(context) {
    const { table, name } = await context.table();
    for (const pk of ['alice', 'bob']) {
      await context.setupClient.send(new PutCommand({ TableName: name, Item: { pk, balance: opening } }));
    }
    const move = async (from: string, to: string, amount: number) => {
      if (context.variant === 'safe') {
        try {
          await transaction()
            .update(
              table,
              { pk: from },
              { changes: { balance: decrement(amount) }, require: { balance: { gte: amount } } },
            )
            .update(table, { pk: to }, { changes: { balance: increment(amount) } })
            .commit({ backoff: { baseMs: 1, capMs: 10 } });
        } catch (error) {
          if (!(error instanceof RacesafeError && error.is('transaction.cancelled'))) throw error; // insufficient funds
        }
        return;
      }
      const { Item } = await context.client.send(
        new GetCommand({ TableName: name, Key: { pk: from }, ConsistentRead: true }),
      );
      if (Number(Item?.balance) < amount) return;
      await context.client.send(
        new UpdateCommand({
          TableName: name,
          Key: { pk: from },
          UpdateExpression: debit,
          ExpressionAttributeValues: { ':a': amount },
        }),
      );
      await context.client.send(
        new UpdateCommand({
          TableName: name,
          Key: { pk: to },
          UpdateExpression: 'SET balance = balance + :a',
          ExpressionAttributeValues: { ':a': amount },
        }),
      );
    };
    const plans = Array.from({ length: workers }, () =>
      Array.from({ length: transfersPerWorker }, () => {
        const aliceToBob = context.random() < 0.5;
        return {
          from: aliceToBob ? 'alice' : 'bob',
          to: aliceToBob ? 'bob' : 'alice',
          amount: 40 + randomInt(context.random, 50),
        };
      }),
    );
    const run = await context.race(
      plans.map((plan) => async () => {
        for (const step of plan) await move(step.from, step.to, step.amount);
      }),
    );
    const read = async (pk: string) =>
      Number(
        (await context.setupClient.send(new GetCommand({ TableName: name, Key: { pk }, ConsistentRead: true }))).Item
          ?.balance,
      );
    const alice = await read('alice');
    const bob = await read('bob');
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (alice + bob !== opening * 2) anomalies.push(`balances add up to ${alice + bob}, not ${opening * 2}`);
    if (alice < 0 || bob < 0) anomalies.push(`a balance went below zero: alice ${alice}, bob ${bob}`);
    return { anomalies };
  },
};
