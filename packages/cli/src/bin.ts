#!/usr/bin/env node
import { main } from './main.js';

// A reader that goes away (`faaskeeper ... | head`) is the end of the output, not a crash: stop
// quietly, as Unix tools do on SIGPIPE. Any other stream error is still thrown.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// The exit code is set, not forced, so that buffered output reaches a pipe before Node exits.
process.exitCode = await main(process.argv.slice(2), {
  input: process.stdin,
  output: process.stdout,
  errorOutput: process.stderr,
});
