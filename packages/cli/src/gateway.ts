import { randomBytes } from 'node:crypto';
import { startGateway } from '@faaskeeper/gateway';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { GATEWAY_KEY_ENV, gatewayKeyFileOption, readGatewayKey, superDigestOption } from './auth-options.js';
import {
  ConfigError,
  type DeploymentConfig,
  isEmbedded,
  openSessionSource,
  readConfig,
} from './deployment.js';
import { untilInterrupted } from './long-running.js';
import type { CliStreams } from './main.js';
import { ExitCode } from './shell/commands.js';

/** The options of `faaskeeper gateway`, as the CLI's declaration parses them. */
export interface GatewayFlags {
  config?: string;
  host: string;
  port: number;
  superDigest?: string;
  gatewayKeyFile?: string;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('It must be a port number 0..65535.');
  return port;
}

/** Declares `faaskeeper gateway` (its options parse to {@link GatewayFlags}) under the program. */
export function declareGatewayCommand(program: Command): Command {
  return program
    .command('gateway')
    .summary('serve ZooKeeper’s client protocol (TCP) from the deployment: ZooKeeper clients run unchanged')
    .description(
      'Serves ZooKeeper’s client protocol on TCP, so ZooKeeper clients (Java, Curator, kazoo, node-zookeeper-client, zkCli.sh) run unchanged against a FaaSKeeper deployment.',
    )
    .addOption(
      new Option(
        '--config <file>',
        'the deployment to front (as for faaskeeper shell); without it, a fresh embedded deployment',
      ),
    )
    .addOption(new Option('--host <address>', 'where to listen').default('127.0.0.1'))
    .addOption(
      new Option('--port <port>', 'the port (0 = any free port)').default(2181).argParser(portNumber),
    )
    .addOption(
      superDigestOption(
        'only without --config (the embedded deployment); a deployed one has the digest it was deployed with',
      ),
    )
    .addOption(
      gatewayKeyFileOption(
        'with --config, the key the deployment was deployed with (else ip ACL entries match nobody); without, random per process when none is given',
      ),
    )
    .addHelpText(
      'after',
      `\nFAASKEEPER_GATEWAY_SECRET keys the session passwords (random per process when unset); ${GATEWAY_KEY_ENV} is the gateway key when --gateway-key-file is not given.\nLogs go to stderr, one JSON line each. Ctrl-C closes every session and stops.`,
    );
}

/** Options of {@link runGateway}. */
export interface RunGatewayOptions {
  config?: string;
  host?: string;
  port?: number;
  /**
   * The super digest of the embedded deployment (no `config`, or an embedded one); refused with a
   * deployed one's config, whose digest was set when it was deployed.
   */
  superDigest?: string;
  /**
   * The key the gateway attests client addresses with: a deployed one's `gatewayKey`. Default for
   * the embedded deployment: random, shared with it; for a deployed one: none (ip entries then
   * match nobody).
   */
  gatewayKey?: string;
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
    if (!isEmbedded(config) && options.superDigest !== undefined)
      throw new ConfigError(
        `--super-digest is for the embedded deployment only: the ${config?.provider} deployment of ${options.config} has the super digest it was deployed with (faaskeeper deploy ${config?.provider} --super-digest)`,
      );
  } catch (error) {
    options.err(`Error: ${(error as Error).message}`);
    return ExitCode.USAGE;
  }
  // The embedded deployment lives in this process: it and the gateway share one key, so ip ACL
  // entries match the addresses the gateway attests.
  const gatewayKey =
    options.gatewayKey ?? (isEmbedded(config) ? randomBytes(32).toString('base64') : undefined);
  try {
    source = await openSessionSource(config, {
      ...(options.superDigest === undefined ? {} : { superDigest: options.superDigest }),
      ...(gatewayKey === undefined ? {} : { gatewayKey }),
    });
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
      ...(gatewayKey === undefined ? {} : { gatewayKey }),
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

/**
 * `faaskeeper gateway` with its parsed options: runs until SIGINT or SIGTERM.
 * @throws UsageError when the gateway key file cannot be read or holds too short a key.
 */
export async function runGatewayCommand(flags: GatewayFlags, streams: CliStreams): Promise<ExitCode> {
  const gatewayKey = readGatewayKey(flags.gatewayKeyFile);
  return untilInterrupted((signal) =>
    runGateway({
      signal,
      out: (line) => streams.output.write(`${line}\n`),
      err: (line) => streams.errorOutput.write(`${line}\n`),
      ...(flags.config === undefined ? {} : { config: flags.config }),
      host: flags.host,
      port: flags.port,
      ...(flags.superDigest === undefined ? {} : { superDigest: flags.superDigest }),
      ...(gatewayKey === undefined ? {} : { gatewayKey }),
    }),
  );
}
