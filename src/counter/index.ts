/** @module Sharded counters for hot keys. */
export * from './sharded-counter.js';
