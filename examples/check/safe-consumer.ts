/** @module `racesafe check` example: the same consumer with putIfNewer: one conditional request, stale and duplicate safe. */
import { defineTable, putIfNewer } from 'racesafe';
import { defineCheck } from 'racesafe/testing';
import { type DeviceEvent, deviceEvents } from './events.js';

export default defineCheck({
  tables: { state: { partitionKey: 'deviceId' } },
  handler: ({ client, tables }) => {
    const state = defineTable({ client, name: tables.state, partitionKey: 'deviceId' });
    return async (event: DeviceEvent) => {
      await putIfNewer(state, event);
    };
  },
  events: deviceEvents,
});
