/** @module README example: a race test of your own code with racesafe/testing (type-checked with the project). */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createFaults, createScheduler, createTable, startDynamoDB, uniqueTableName } from 'racesafe/testing';

export async function raceTest(seed: number): Promise<number> {
  const db = await startDynamoDB(); // DynamoDB Local when Java is found, else dynalite
  try {
    const name = uniqueTableName('counters');
    await createTable(db.client, { name, partitionKey: 'pk' });
    await db.client.send(new PutCommand({ TableName: name, Item: { pk: 'c', n: 0 } }));

    const scheduler = createScheduler({ seed }); // decides the request interleaving: replays exactly
    const faults = createFaults({ seed, latency: { maxMs: 5 } }); // widens race windows
    scheduler.attach(db.client);
    faults.attach(db.client);

    const increment = async () => {
      const { Item } = await db.client.send(new GetCommand({ TableName: name, Key: { pk: 'c' } }));
      await db.client.send(new PutCommand({ TableName: name, Item: { pk: 'c', n: Number(Item?.n) + 1 } }));
    };
    await scheduler.run([increment, increment, increment]);
    const { Item } = await db.client.send(new GetCommand({ TableName: name, Key: { pk: 'c' }, ConsistentRead: true }));
    return Number(Item?.n); // 3 if no update was lost; the naive increment above often gives less
  } finally {
    await db.stop();
  }
}
