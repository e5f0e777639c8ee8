/** @module Scenario: concurrent orders against a stock of 10; a guarded atomic decrement never oversells. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { decrement } from '../../expression/update.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { randomInt } from '../../testing/random.js';
import { guardedUpdate } from '../../write/guarded-update.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const stock = 10;
const orders = 8;

export const oversell: Scenario = {
  name: 'oversell',
  summary: `${orders} concurrent orders of 1-3 units against a stock of ${stock}; naive check-then-write sells what is not there, guardedUpdate never does.`,
  invariant: `units sold + stock left = ${stock}, and stock never below 0`,
  requires: ['transactions'],
  size: { name: 'orders', default: orders, min: 2 },
  async run(context) {
    const { table, name } = await context.table();
    const key = { pk: 'sku-1' };
    await context.setupClient.send(new PutCommand({ TableName: name, Item: { ...key, quantity: stock } }));
    const quantities = Array.from({ length: context.size ?? orders }, () => 1 + randomInt(context.random, 3));
    let sold = 0;
    const order = async (quantity: number) => {
      if (context.variant === 'safe') {
        const outcome = await guardedUpdate(table, key, {
          changes: { quantity: decrement(quantity) },
          require: { quantity: { gte: quantity } },
        });
        if (outcome.status === 'applied') sold += quantity;
        return;
      }
      const { Item } = await context.client.send(new GetCommand({ TableName: name, Key: key, ConsistentRead: true }));
      const left = Number(Item?.quantity);
      if (left >= quantity) {
        await context.client.send(new PutCommand({ TableName: name, Item: { ...key, quantity: left - quantity } }));
        sold += quantity;
      }
    };
    const run = await context.race(quantities.map((quantity) => () => order(quantity)));
    const { Item } = await context.setupClient.send(
      new GetCommand({ TableName: name, Key: key, ConsistentRead: true }),
    );
    const left = Number(Item?.quantity);
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    if (left < 0) anomalies.push(`stock went below zero: ${left}`);
    if (sold + left !== stock)
      anomalies.push(`sold ${sold} units, ${left} left: ${sold + left - stock} units oversold`);
    return { anomalies };
  },
};
