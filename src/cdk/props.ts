/** @module Props checks shared by the constructs: unknown prop names are refused with the allowed ones listed. */
import { rejectUnknownOptions } from '../errors.js';

/** Throws when `props` holds a name `allowed` does not list; `allowed` is keyed by the interface, so it cannot drift. */
export function rejectUnknownProps<P extends object>(
  props: P,
  allowed: Record<keyof P, true>,
  construct: string,
): void {
  rejectUnknownOptions(props, Object.keys(allowed), construct);
}
