/** @module Poison records: what cannot be handled however often it is retried, sent to a sink with its reason. */
import { RacesafeError } from '../errors.js';

/**
 * Why a record is poison.
 * - `undecodable`: bad base64, bad UTF-8, invalid JSON, an unreadable image;
 * - `invalid`: `parse` refused it (a schema's issues, or what the parse function threw);
 * - `missingKey`: no lane key;
 * - `invalidVersion`: a version that is not a positive safe integer or a non-empty string;
 * - `invalidInput`: `handle` threw a racesafe validation error (an oversized item, a bad key), raised before any
 *   request was sent, so no retry can succeed.
 */
export type PoisonKind = 'undecodable' | 'invalid' | 'missingKey' | 'invalidVersion' | 'invalidInput';

/** What a poison sink receives. */
export interface PoisonRecord<Raw> {
  readonly kind: PoisonKind;
  readonly reason: string;
  /** The handler that met it: `kinesisHandler`, `dynamoDBStreamHandler` or `sqsHandler`. */
  readonly handler: string;
  /** Where the record came from (`eventSourceARN`). */
  readonly origin: string;
  readonly eventId: string;
  readonly itemIdentifier: string;
  /** The record exactly as Lambda delivered it. */
  readonly raw: Raw;
}

/**
 * Takes a poison record somewhere safe (a dead-letter queue, a table, a log the team reads). When it resolves the
 * record counts as handled; when it throws the record is reported failed, so it is delivered again: never dropped.
 */
export type PoisonSink<Raw> = (poison: PoisonRecord<Raw>) => void | Promise<void>;

/** True for the errors that make a record poison when `handle` throws them: validation before any request. */
export function isPoisonError(error: unknown): error is RacesafeError<'validation.invalidInput'> {
  return error instanceof RacesafeError && error.is('validation.invalidInput');
}
