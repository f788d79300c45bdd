/**
 * Runs one external client program (java, zkCli.sh, python) for a compatibility test and collects what it
 * printed. A program that does not finish in time is killed by the PID it was started with, so a server
 * that never answers fails the test instead of hanging it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a finished program printed, and how it ended. */
export interface ProcessRun {
  stdout: string;
  /** Empty when {@link RunOptions.combineOutput} was set (everything is in `stdout`). */
  stderr: string;
  code: number | null;
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the program's stdin, which is then closed; no stdin at all when absent. */
  stdin?: string;
  /** Kill after this long. Default 60 s. */
  timeoutMs?: number;
  /**
   * Send stdout and stderr to one file, so lines written to either stay in the order they were written
   * (two pipes would interleave them by chance).
   */
  combineOutput?: boolean;
}

/** Runs `command args` and resolves when it has exited (or was killed after the timeout). */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ProcessRun> {
  const dir =
    options.combineOutput === true ? mkdtempSync(join(tmpdir(), 'faaskeeper-client-run-')) : undefined;
  const outFile = dir === undefined ? undefined : join(dir, 'output.txt');
  const fd = outFile === undefined ? undefined : openSync(outFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', fd ?? 'pipe', fd ?? 'pipe'],
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    if (fd !== undefined) closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      stderr += `\n[${command} killed after ${timeoutMs} ms]`;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (outFile !== undefined && dir !== undefined) {
        stdout = readFileSync(outFile, 'utf8');
        rmSync(dir, { recursive: true, force: true });
      }
      resolve({ stdout, stderr, code });
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
