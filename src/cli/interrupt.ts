/** @module Ctrl-C in a racesafe command: say what was interrupted, then exit 130 (the engines' cleanup has run). */

/** Prints what was interrupted on Ctrl-C (the engines' own cleanup has stopped them by then), then exits 130. */
export function onInterrupt(message: () => string): { dispose(): void } {
  const handler = () => {
    process.stderr.write(`\n${message()}\n`);
    process.exit(130);
  };
  process.once('SIGINT', handler);
  return { dispose: () => process.off('SIGINT', handler) };
}
