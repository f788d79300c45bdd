import { startGateway } from '@faaskeeper/gateway';
import { ConfigError, type DeploymentConfig, openSessionSource, readConfig } from './deployment.js';
import { stringFlags, untilInterrupted } from './long-running.js';
import type { CliStreams } from './main.js';
import { ExitCode } from './shell/commands.js';

export const GATEWAY_USAGE = 'faaskeeper gateway [--config file] [--host 127.0.0.1] [--port 2181]';

/** `faaskeeper gateway --help`. */
export function gatewayHelp(): string[] {
  return [
    `Usage: ${GATEWAY_USAGE}`,
    '',
    '  Serves ZooKeeper’s client protocol on TCP, so ZooKeeper clients (Java, Curator, kazoo,',
    '  node-zookeeper-client, zkCli.sh) run unchanged against a FaaSKeeper deployment.',
    '',
    '  --config file   the deployment to front (as for faaskeeper shell); without it, a fresh',
    '                  embedded deployment',
    '  --host address  where to listen (default 127.0.0.1)',
    '  --port port     the port (default 2181; 0 = any free port)',
    '',
    '  FAASKEEPER_GATEWAY_SECRET keys the session passwords (random per process when unset).',
    '  Logs go to stderr, one JSON line each. Ctrl-C closes every session and stops.',
  ];
}

/** Options of {@link runGateway}. */
export interface RunGatewayOptions {
  config?: string;
  host?: string;
  port?: number;
  /** Stops the gateway when aborted. */
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs the gateway until `signal` aborts; resolves the exit code. */
export async function runGateway(options: RunGatewayOptions): Promise<ExitCode> {
  let config: DeploymentConfig | undefined;
  let source: Awaited<ReturnType<typeof openSessionSource>>;
  try {
    if (options.config !== undefined) config = await readConfig(options.config);
    source = await openSessionSource(config);
  } catch (error) {
    options.err(
      `Error: ${error instanceof ConfigError ? '' : 'cannot connect: '}${(error as Error).message}`,
    );
    return error instanceof ConfigError ? ExitCode.USAGE : ExitCode.FAILED;
  }
  try {
    const gw = await startGateway({
      deployment: source,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 2181,
      log: (line) => options.err(JSON.stringify({ time: new Date().toISOString(), ...line })),
    });
    options.out(`ZooKeeper gateway listening on ${gw.connectString} (deployment: ${source.label})`);
    if (!options.signal.aborted)
      await new Promise<void>((done) =>
        options.signal.addEventListener('abort', () => done(), { once: true }),
      );
    options.out('Stopping: closing every session ...');
    await gw.close();
    options.out('Stopped.');
    return ExitCode.OK;
  } catch (error) {
    options.err(`Error: ${(error as Error).message}`);
    return ExitCode.FAILED;
  } finally {
    await source.close();
  }
}

/** `faaskeeper gateway [...]` from the command line: runs until SIGINT or SIGTERM. */
export async function runGatewayCommand(args: readonly string[], streams: CliStreams): Promise<ExitCode> {
  const flags = stringFlags(
    args,
    ['config', 'host', 'port'],
    { usage: GATEWAY_USAGE, help: gatewayHelp },
    streams,
  );
  if (typeof flags === 'number') return flags;
  const { values, usage } = flags;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    return usage(`--port must be a port number 0..65535 (got '${values.port}')`);
  return untilInterrupted((signal) =>
    runGateway({
      signal,
      out: (line) => streams.output.write(`${line}\n`),
      err: (line) => streams.errorOutput.write(`${line}\n`),
      ...(values.config === undefined ? {} : { config: values.config }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(port === undefined ? {} : { port }),
    }),
  );
}
