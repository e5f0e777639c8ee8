/** @module Placeholder-safe condition and update fragments (pure). */
export * from './condition.js';
export * from './guard.js';
export * from './placeholders.js';
export * from './update.js';
