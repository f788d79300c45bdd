/**
 * Driving the shell from TypeScript (docs/cli.md): the `faaskeeper` package exports the shell's
 * command module, which needs no terminal. Run by packages/cli/test/docs-snippets.test.ts.
 */
import assert from 'node:assert/strict';
import { createEmbeddedService } from '@faaskeeper/core';
import { ExitCode, Shell } from 'faaskeeper';

/** Runs the example. */
export async function run(): Promise<void> {
  // #region shell-api
  const service = createEmbeddedService();
  const lines: string[] = [];
  const errors: string[] = [];
  const shell = new Shell(await service.connect(), {
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
  });

  const code = await shell.execute('create /app "hello world"; get /app; get /missing');
  assert.equal(code, ExitCode.FAILED); // the worst outcome of the line: one command failed
  assert.deepEqual(lines, ['Created /app', 'hello world']);
  assert.deepEqual(errors, ['Node does not exist: /missing']); // zkCli's words
  await service.close();
  // #endregion shell-api
}
