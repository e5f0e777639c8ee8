/** @module The race stories the lab runs, in the order of the README. */
import type { Scenario } from '../scenario.js';
import { ambiguousRetry } from './ambiguous-retry.js';
import { duplicateDelivery } from './duplicate-delivery.js';
import { lostUpdate } from './lost-update.js';
import { oversell } from './oversell.js';
import { staleOverwrite } from './stale-overwrite.js';
import { transfer } from './transfer.js';

export const scenarios: readonly Scenario[] = [
  staleOverwrite,
  duplicateDelivery,
  lostUpdate,
  oversell,
  ambiguousRetry,
  transfer,
];
