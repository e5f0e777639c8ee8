/** @module Outcome events and the Powertools adapters. */
export * from './events.js';
export * from './powertools.js';
export * from './tracer.js';
