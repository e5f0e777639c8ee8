#!/usr/bin/env node
/** @module The `racesafe` command line: parses argv and hands over to the lab; no logic lives here. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { runCli } = await import('./commands.js');
process.exitCode = await runCli(process.argv.slice(2));
