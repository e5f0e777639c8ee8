/** @module Scenario: a hot wallet; responses lost after commit while 32-48 other writes land before the SDK's retry. */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decrement } from '../../expression/update.js';
import { isConditionalCheckFailed } from '../../retry/backoff.js';
import { isSimulatedCrash, SimulatedNetworkError } from '../../testing/faults.js';
import { randomInt, seededRandom } from '../../testing/random.js';
import { guardedUpdate } from '../../write/guarded-update.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const workers = 4;
const chargesPerWorker = 3;
const balance = 1000;
const lostProbability = 0.4;
/** Other writes that land between a lost response and its retry: more than any bounded memory of recent writes keeps. */
const burst = { min: 32, max: 48 };

export const ambiguousRetry: Scenario = {
  name: 'ambiguous-retry',
  summary: `${workers} workers charge one hot wallet; 40% of the charges' responses are lost after commit, and ${burst.min}-${burst.max} top-ups from other clients land before the SDK retries; naive conditional updates charge twice or misreport, racesafe applies each charge once.`,
  invariant: 'the balance equals the starting balance plus the top-ups minus the charges callers were told succeeded',
  requires: ['transactions'],
  async run(context) {
    const { table, name } = await context.table();
    const key = { pk: 'wallet' };
    await context.setupClient.send(new PutCommand({ TableName: name, Item: { ...key, balance } }));
    let toppedUp = 0;
    // The hot key: once a charge has landed, other clients (ungated: not part of the race) top the wallet up many
    // times, and only then is the charge's response lost, so the SDK's retry comes after all of them.
    const draws = seededRandom((context.seed ^ 0x5bd1e995) >>> 0);
    const middlewareName = `racesafe.lab.ambiguousRetry.${context.variant}.${context.seed}`;
    context.client.middlewareStack.add(
      (next, stackContext) => async (args) => {
        const result = await next(args);
        const operation = stackContext.commandName ?? '';
        const isCharge = operation.startsWith('TransactWrite') || operation.startsWith('Update');
        if (isCharge && draws() < lostProbability) {
          const others = burst.min + randomInt(draws, burst.max - burst.min + 1);
          // Eight clients at a time: the burst is about how many writes land, not in which order.
          for (let sent = 0; sent < others; sent += 8) {
            const batch = Math.min(8, others - sent);
            await Promise.all(
              Array.from({ length: batch }, () =>
                context.setupClient.send(
                  new UpdateCommand({
                    TableName: name,
                    Key: key,
                    UpdateExpression: 'ADD balance :one',
                    ExpressionAttributeValues: { ':one': 1 },
                  }),
                ),
              ),
            );
            toppedUp += batch;
          }
          throw new SimulatedNetworkError(operation);
        }
        return result;
      },
      { step: 'deserialize', name: middlewareName },
    );
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
    context.client.middlewareStack.remove(middlewareName);
    const { Item } = await context.setupClient.send(
      new GetCommand({ TableName: name, Key: key, ConsistentRead: true }),
    );
    const actual = balance + toppedUp - Number(Item?.balance);
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (actual !== believedCharged) {
      anomalies.push(`callers were told ${believedCharged} was charged; the wallet lost ${actual}`);
    }
    return { anomalies };
  },
};
