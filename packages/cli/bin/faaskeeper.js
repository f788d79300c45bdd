#!/usr/bin/env node
// The `faaskeeper` command. It lives outside dist/ so that a workspace install links it before the
// first build (pnpm skips a bin whose file does not exist yet); the CLI itself is dist/bin.js.
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/bin.js', import.meta.url);
try {
  await import(cli.href);
} catch (error) {
  // Only the CLI's own build missing is explained; any other failure (a missing dependency too) is rethrown.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(fileURLToPath(cli)))
    throw error;
  process.stderr.write(
    'faaskeeper is not built yet: run `npx -y pnpm@10.34.8 build --filter faaskeeper...` in the repository\n',
  );
  process.exitCode = 1;
}
