/** @module One Lambda execution environment for `racesafe check`: a child process that loads the user's module once and runs invocations one at a time. */
import { pathToFileURL } from 'node:url';
import { lambdaContext } from '../../testing/event-source/lambda-events.js';
import type { EnvironmentMessage, HostMessage } from './protocol.js';

const send = (message: HostMessage) => process.send?.(message);
const describe = (error: unknown) =>
  error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };

async function load(): Promise<((event: unknown, context: unknown) => unknown) | undefined> {
  const file = process.env.RACESAFE_CHECK_MODULE ?? '';
  const exportName = process.env.RACESAFE_CHECK_EXPORT ?? 'handler';
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    send({ type: 'load-error', reason: 'import', error: describe(error) });
    return undefined;
  }
  // A CommonJS module's exports arrive as `default` (and, when Node can tell, as named exports too).
  const fallback = module.default as Record<string, unknown> | undefined;
  const handler = module[exportName] ?? (typeof fallback === 'object' ? fallback?.[exportName] : undefined);
  if (typeof handler !== 'function') {
    const exported = Object.keys(module).filter((name) => name !== 'default' || module.default !== undefined);
    send({
      type: 'load-error',
      reason: 'export',
      error: {
        name: 'MissingExport',
        message:
          handler === undefined
            ? `has no export '${exportName}' (it exports: ${exported.join(', ') || 'nothing'})`
            : `export '${exportName}' is not a function`,
      },
    });
    return undefined;
  }
  return handler as (event: unknown, context: unknown) => unknown;
}

// The parent is gone (Ctrl-C, a crash of racesafe itself): an environment never outlives it.
process.on('disconnect', () => process.exit(0));

const handler = await load();
if (handler !== undefined) {
  // Lambda runs one invocation at a time per environment; the parent never sends the next before the last result.
  process.on('message', (message: EnvironmentMessage) => {
    if (message.type !== 'invoke') return;
    Promise.resolve()
      .then(() => handler(message.event, lambdaContext(message.requestId, 60_000)))
      .then(
        () => send({ type: 'result', id: message.id }),
        (error: unknown) => send({ type: 'result', id: message.id, error: describe(error) }),
      );
  });
  send({ type: 'ready' });
} else {
  process.disconnect?.();
}
