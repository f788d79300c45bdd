import { createInterface } from 'node:readline';
import { MAX_DATA_BYTES } from '@faaskeeper/core';
import type { Deployment } from '../deployment.js';
import { ExitCode, Shell, worse } from './commands.js';
import { complete } from './completer.js';
import { readLines } from './read-lines.js';

/**
 * The longest script line the shell reads from stdin: the largest data a node may hold plus room
 * for the command, its options and the path. A longer line could only carry data over the limit.
 */
export const MAX_LINE_BYTES = MAX_DATA_BYTES + 64 * 1024;

/**
 * Refuses a script line that passed {@link MAX_LINE_BYTES}, as the client refuses data over the
 * limit (BADARGUMENTS, in zkCli's words), naming the path from the line's first bytes.
 */
function refuseLongLine(shell: Shell, head: string): ExitCode {
  const path = head.split(/\s+/).find((word) => word.startsWith('/'));
  shell.output.err(
    `Arguments are not valid : ${path ?? '(no path)'} (the line is over ${MAX_LINE_BYTES} bytes: ` +
      `its data would be over the limit of ${MAX_DATA_BYTES})`,
  );
  return ExitCode.FAILED;
}

/** The streams the shell talks through (process.stdin/stdout/stderr, or test doubles). */
export interface ShellStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  errorOutput: NodeJS.WritableStream;
}

/**
 * Runs the shell on a connected deployment:
 * - with `commands` (`-c "ls /; get /a"`): runs them and resolves the worst exit code;
 * - with input that is not a terminal (a pipe, a file): runs each line, same exit code rule;
 * - on a terminal: an interactive prompt with history and tab completion; resolves 0 on quit,
 *   Ctrl-D or Ctrl-C (errors were shown as they happened).
 */
export async function runShell(
  deployment: Deployment,
  streams: ShellStreams,
  options: { commands?: string } = {},
): Promise<ExitCode> {
  const { client } = deployment;
  // While the interactive prompt waits for input, a watch event is printed above the prompt,
  // which is then redrawn with what the user had typed so far.
  let waitingAtPrompt: { prompt(preserveCursor?: boolean): void } | undefined;
  const print = (stream: NodeJS.WritableStream, line: string) => {
    if (waitingAtPrompt === undefined) stream.write(`${line}\n`);
    else {
      streams.output.write('\r\x1b[K');
      stream.write(`${line}\n`);
      waitingAtPrompt.prompt(true);
    }
  };
  const shell = new Shell(client, {
    out: (line) => print(streams.output, line),
    err: (line) => print(streams.errorOutput, line),
  });
  if (options.commands !== undefined) return shell.execute(options.commands);

  if (streams.input.isTTY !== true) {
    let code: ExitCode = ExitCode.OK;
    for await (const read of readLines(streams.input as AsyncIterable<Buffer | string>, MAX_LINE_BYTES)) {
      code = worse(
        code,
        'line' in read ? await shell.execute(read.line) : refuseLongLine(shell, read.tooLong),
      );
      if (shell.quitRequested) break;
    }
    return code;
  }

  const prompt = () => `[faaskeeper: ${deployment.label}(${client.state}) ${shell.history.length}] `;
  const rl = createInterface({
    input: streams.input,
    output: streams.output,
    terminal: true,
    historySize: 1000,
    removeHistoryDuplicates: true,
    prompt: prompt(),
    completer: (line: string, callback: (error: Error | null, result?: [string[], string]) => void) => {
      complete(client, line).then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
    },
  });
  // Without a listener readline only pauses on Ctrl-C; a shell user expects it to leave.
  rl.on('SIGINT', () => rl.close());
  streams.output.write(
    `Connected to the ${deployment.label} deployment, session 0x${client.sessionNumber.toString(16)}. ` +
      'Type help for the commands, quit to leave.\n',
  );
  rl.prompt();
  waitingAtPrompt = rl;
  try {
    for await (const line of rl) {
      waitingAtPrompt = undefined;
      await shell.execute(line);
      if (shell.quitRequested) break;
      rl.setPrompt(prompt());
      rl.prompt();
      waitingAtPrompt = rl;
    }
  } finally {
    waitingAtPrompt = undefined;
    rl.close();
  }
  return ExitCode.OK;
}
