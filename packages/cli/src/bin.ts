#!/usr/bin/env node
import { main } from './main.js';

// The exit code is set, not forced, so that buffered output reaches a pipe before Node exits.
process.exitCode = await main(process.argv.slice(2), {
  input: process.stdin,
  output: process.stdout,
  errorOutput: process.stderr,
});
