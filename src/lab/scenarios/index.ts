/** @module The race stories the lab runs, in the order of the README. */
import type { Scenario } from '../scenario.js';
import { ambiguousRetry } from './ambiguous-retry.js';
import { cacheStampede } from './cache-stampede.js';
import { duplicateDelivery } from './duplicate-delivery.js';
import { longWork } from './long-work.js';
import { lostUpdate } from './lost-update.js';
import { oversell } from './oversell.js';
import { staleOverwrite } from './stale-overwrite.js';
import { tenantLeak } from './tenant-leak.js';
import { transfer } from './transfer.js';
import { zombieLease } from './zombie-lease.js';

export const scenarios: readonly Scenario[] = [
  staleOverwrite,
  duplicateDelivery,
  lostUpdate,
  oversell,
  cacheStampede,
  zombieLease,
  longWork,
  ambiguousRetry,
  transfer,
  tenantLeak,
];
