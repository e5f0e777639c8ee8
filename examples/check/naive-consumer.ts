/** @module `racesafe check` example: the story's state consumer, get-compare-put. Correct serially; not under races. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { defineCheck } from 'racesafe/testing';
import { type DeviceEvent, deviceEvents } from './events.js';

export default defineCheck({
  tables: { state: { partitionKey: 'deviceId' } },
  handler:
    ({ client, tables }) =>
    async (event: DeviceEvent) => {
      const { Item } = await client.send(
        new GetCommand({ TableName: tables.state, Key: { deviceId: event.deviceId }, ConsistentRead: true }),
      );
      if (Item === undefined || Number(Item.version) < event.version) {
        await client.send(new PutCommand({ TableName: tables.state, Item: event }));
      }
    },
  events: deviceEvents,
});
