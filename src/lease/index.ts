/** @module Leases with fencing tokens, and what is built on them: idempotent functions and single-flight cache fill. */
export * from './cached.js';
export * from './clock.js';
export * from './hold.js';
export * from './idempotent.js';
export * from './lease.js';
export * from './payload.js';
export * from './record.js';
export * from './requests.js';
export * from './wait.js';
