/** @module Events for the `racesafe check` examples: versioned device readings, in their true order. */
import type { Random } from 'racesafe/testing';

export interface DeviceEvent {
  readonly deviceId: string;
  readonly version: number;
  readonly temperature: number;
}

/** Three devices, five versions each, in version order (a generator works too). */
export function* deviceEvents(random: Random): Generator<DeviceEvent> {
  for (let version = 1; version <= 5; version++) {
    for (const deviceId of ['d-1', 'd-2', 'd-3']) {
      yield { deviceId, version, temperature: Math.round(random() * 300) / 10 };
    }
  }
}
