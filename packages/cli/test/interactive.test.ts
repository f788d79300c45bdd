import { PassThrough } from 'node:stream';
import { createEmbeddedService } from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { ExitCode, runShell } from '../src/index.js';

/** A terminal stand-in: keystrokes in, everything the shell draws collected. */
function fakeTerminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true as const, setRawMode: () => input });
  const output = new PassThrough();
  let screen = '';
  output.on('data', (c: Buffer) => {
    screen += c.toString();
  });
  const waitFor = (text: string | RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) {
          output.off('data', check);
          resolve();
        }
      };
      output.on('data', check);
      check();
    });
  return { input, output, screen: () => screen, waitFor };
}

describe('interactive shell', () => {
  it('prompts, runs commands, completes paths on Tab and leaves on quit with exit 0', async () => {
    const service = createEmbeddedService();
    const client = await service.connect();
    const term = fakeTerminal();
    const errors = new PassThrough();
    const done = runShell(
      { label: 'embedded', client, close: async () => {} },
      { input: term.input, output: term.output, errorOutput: errors },
    );
    await term.waitFor('[faaskeeper: embedded(CONNECTED) 0] ');
    term.input.write('create /orders 1\r');
    await term.waitFor('Created /orders');
    await term.waitFor('[faaskeeper: embedded(CONNECTED) 1] ');
    term.input.write('get /ord\t');
    await term.waitFor('get /orders');
    term.input.write('\r');
    await term.waitFor('[faaskeeper: embedded(CONNECTED) 2] ');
    term.input.write('quit\r');
    expect(await done).toBe(ExitCode.OK);
    expect(term.screen()).toMatch(/get \/orders\r?\n(?:\r?\n)?1\r?\n/);
    await service.close();
  });

  it('prints a watch event that arrives at the prompt above it, keeping what was typed', async () => {
    const service = createEmbeddedService();
    const client = await service.connect();
    const other = await service.connect();
    const term = fakeTerminal();
    const done = runShell(
      { label: 'embedded', client, close: async () => {} },
      { input: term.input, output: term.output, errorOutput: new PassThrough() },
    );
    term.input.write('addWatch /\r');
    await term.waitFor('[faaskeeper: embedded(CONNECTED) 1] ');
    term.input.write('ls /ne');
    await term.waitFor('ls /ne');
    await other.create('/news');
    // The event line, then the prompt redrawn with the unfinished command.
    await term.waitFor(
      /WATCHER::\r?\n.*WatchedEvent state:SyncConnected type:NodeCreated path:\/news\r?\n.*\[faaskeeper: embedded\(CONNECTED\) 1\] ls \/ne/s,
    );
    term.input.write('\x15quit\r');
    expect(await done).toBe(ExitCode.OK);
    await service.close();
  });
});
