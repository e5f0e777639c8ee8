/** @module Transactions: the builder and cancellation decoding. */
export * from './builder.js';
export * from './cancellation.js';
