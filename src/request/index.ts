/** @module The conditional-write kernel and the call machinery every primitive shares. */
export * from './conditional-write.js';
export * from './operation.js';
export * from './stored.js';
export * from './transact-one.js';
export * from './update-input.js';
export * from './write-token.js';
