import { PassThrough, Readable } from 'node:stream';
import type { ShellOutput } from '../src/index.js';

/** A {@link ShellOutput} that keeps every line, and lets a test await a line it expects. */
export class CapturedOutput implements ShellOutput {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  out = (line: string): void => {
    this.stdout.push(line);
    for (const w of this.waiters.filter((w) => w.match(line))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(line);
    }
  };

  err = (line: string): void => {
    this.stderr.push(line);
  };

  /** Resolves with the first stdout line (already printed or still to come) equal to `line`. */
  line(line: string): Promise<string> {
    if (this.stdout.includes(line)) return Promise.resolve(line);
    return new Promise((resolve) => this.waiters.push({ match: (l) => l === line, resolve }));
  }

  clear(): void {
    this.stdout.length = 0;
    this.stderr.length = 0;
  }
}

/** Streams for `main()`: stdin from `input` (not a TTY), stdout and stderr collected as text. */
export function memoryStreams(input = '') {
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  errorOutput.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  return {
    streams: { input: Readable.from([input]), output, errorOutput },
    stdout: () => out,
    stderr: () => err,
  };
}
