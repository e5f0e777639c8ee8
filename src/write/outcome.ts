/** @module Outcomes, not exceptions: a write that loses a race safely is a result the caller can count. */
import type { Item } from '../table.js';

/**
 * What a versioned write did.
 * - `applied`: this write is stored (also when an earlier attempt of this same call landed and its response was lost);
 * - `stale`: a newer version is stored, so this one was skipped safely. `mayHaveLanded` is set when an earlier
 *   attempt of this call may have been stored before the newer version replaced it (a lost response, resent after
 *   the newer write): the one case where racesafe cannot know, and says so;
 * - `duplicate`: this exact version is already stored (a redelivery);
 * - `rejected`: a rule said no (a guard, or a stored version of another type).
 */
export type WriteOutcome<T extends object = Item> =
  | { readonly status: 'applied'; readonly item: T }
  | { readonly status: 'stale'; readonly current: T; readonly mayHaveLanded?: true }
  | { readonly status: 'duplicate'; readonly current: T }
  | { readonly status: 'rejected'; readonly current: T | undefined; readonly reason: string };

/** What a guarded update did: applied, rejected by its guard (naming it), or the item does not exist. */
export type GuardedOutcome<T extends object = Item> =
  | { readonly status: 'applied'; readonly item: T }
  | { readonly status: 'rejected'; readonly current: T; readonly reason: string; readonly failed: readonly string[] }
  | { readonly status: 'missing' };

/** What a version-checked delete did. */
export type DeleteOutcome<T extends object = Item> =
  | { readonly status: 'applied'; readonly previous: T | undefined }
  | { readonly status: 'stale'; readonly current: T; readonly mayHaveLanded?: true }
  | { readonly status: 'duplicate'; readonly current: T }
  | { readonly status: 'rejected'; readonly current: T | undefined; readonly reason: string };
