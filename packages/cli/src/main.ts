import { parseArgs } from 'node:util';
import { DEPLOY_USAGE, deployHelp, runDeployCommand } from './aws-deploy.js';
import { runDemo } from './demo.js';
import { ConfigError, type DeploymentConfig, openDeployment, readConfig } from './deployment.js';
import { DEV_USAGE, devHelp, runDevCommand } from './dev.js';
import { GATEWAY_USAGE, gatewayHelp, runGatewayCommand } from './gateway.js';
import { GCP_DEPLOY_USAGE, gcpDeployHelp, namesGcp, runGcpDeployCommand } from './gcp-deploy.js';
import { ExitCode } from './shell/commands.js';
import { runShell, type ShellStreams } from './shell/run-shell.js';
import { cliVersion } from './version.js';

/** The process streams the CLI uses; tests pass their own. */
export type CliStreams = ShellStreams;

const USAGE = {
  shell: 'faaskeeper shell [-c "cmd; cmd"] [--config file]',
  demo: 'faaskeeper demo',
} as const;

/** `faaskeeper help`: the commands of the CLI. */
export function cliHelp(): string[] {
  return [
    'faaskeeper — a serverless ZooKeeper',
    '',
    'Usage: faaskeeper <command> [options]',
    '',
    'Commands:',
    '  shell [-c "cmd; cmd"] [--config file]',
    '               a zkCli-style shell (help inside it lists its commands); commands come from -c,',
    '               from stdin when it is not a terminal, or from the prompt. Without --config it',
    '               runs on a fresh embedded (in-memory, in-process) deployment.',
    `  ${GATEWAY_USAGE}`,
    '               serve ZooKeeper’s client protocol (TCP) from the deployment: ZooKeeper clients run unchanged',
    '  demo         a narrated tour on the embedded deployment: leader election, a watch, session expiry',
    `  ${DEV_USAGE}`,
    '               a local AWS or GCP stack (emulators on 127.0.0.1) with the functions in-process',
    `  ${DEPLOY_USAGE.deploy}`,
    '               deploy to AWS with the CDK; writes the client configuration',
    `  ${DEPLOY_USAGE.synth}`,
    '               write the CloudFormation template only (no credentials needed)',
    `  ${DEPLOY_USAGE.destroy}`,
    '               delete the stack (the table and bucket are retained)',
    `  ${GCP_DEPLOY_USAGE.synth}`,
    '               write the Terraform configuration and function sources (offline)',
    `  ${GCP_DEPLOY_USAGE.deploy}`,
    '               deploy to Google Cloud with Terraform; writes the client configuration',
    `  ${GCP_DEPLOY_USAGE.destroy}`,
    '               terraform destroy (the data is kept unless --delete-data)',
    '  help         this text (faaskeeper <command> --help describes one command)',
    '  --version    print the version',
    '',
    '  cost: not available yet (it comes with the provider packages).',
    '',
    'Exit codes: 0 success, 1 a command failed, 2 usage error.',
  ];
}

function shellHelp(): string[] {
  return [
    `Usage: ${USAGE.shell}`,
    '',
    '  -c, --command "cmd; cmd"  run these shell commands and exit (exit code: the worst of them)',
    '  --config file             a deployment config (JSON, {"provider": "embedded" | "aws" | "gcp", ...});',
    '                            without it, a fresh embedded deployment',
    '  -h, --help                this text',
    '',
    'Without -c, commands are read from stdin when it is not a terminal (one or more per line),',
    'otherwise from an interactive prompt with history and tab completion. Type help in the shell',
    'for its commands. Results go to stdout, errors to stderr as "Error: CODE: detail".',
  ];
}

function demoHelp(): string[] {
  return [
    `Usage: ${USAGE.demo}`,
    '',
    '  A narrated tour on the embedded deployment: a leader election among three clients, a watch',
    '  firing, and a session expiring with the next candidate taking over. Exits 0 when every step',
    '  behaved as ZooKeeper specifies.',
  ];
}

/**
 * The CLI: runs one `faaskeeper` invocation and resolves its exit code (0 success, 1 a command
 * failed, 2 usage error). Never throws for a user's mistake; every message goes to the streams.
 */
export async function main(argv: readonly string[], streams: CliStreams): Promise<ExitCode> {
  const print = (lines: string[]) => streams.output.write(`${lines.join('\n')}\n`);
  const fail = (message: string, usage?: string) => {
    streams.errorOutput.write(`Error: ${message}\n`);
    if (usage !== undefined) streams.errorOutput.write(`Usage: ${usage}\n`);
    return ExitCode.USAGE;
  };
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      streams.errorOutput.write(`${cliHelp().join('\n')}\n`);
      return ExitCode.USAGE;
    case '--version':
    case '-V':
    case 'version':
      print([cliVersion()]);
      return ExitCode.OK;
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] === 'shell') print(shellHelp());
      else if (rest[0] === 'demo') print(demoHelp());
      else if (rest[0] === 'dev') print(devHelp());
      else if (rest[0] === 'gateway') print(gatewayHelp());
      else if (rest[0] === 'deploy' || rest[0] === 'synth' || rest[0] === 'destroy')
        print(rest[1] === 'gcp' ? gcpDeployHelp() : [...deployHelp(), '', ...gcpDeployHelp()]);
      else print(cliHelp());
      return ExitCode.OK;
    case 'shell': {
      let values: { command?: string; config?: string; help?: boolean };
      try {
        ({ values } = parseArgs({
          args: rest,
          options: {
            command: { type: 'string', short: 'c' },
            config: { type: 'string' },
            help: { type: 'boolean', short: 'h' },
          },
          strict: true,
          allowPositionals: false,
        }));
      } catch (error) {
        return fail((error as Error).message, USAGE.shell);
      }
      if (values.help) {
        print(shellHelp());
        return ExitCode.OK;
      }
      let config: DeploymentConfig | undefined;
      let deployment: Awaited<ReturnType<typeof openDeployment>>;
      try {
        if (values.config !== undefined) config = await readConfig(values.config);
        deployment = await openDeployment(config);
      } catch (error) {
        if (error instanceof ConfigError) return fail(error.message);
        streams.errorOutput.write(`Error: cannot connect: ${(error as Error).message}\n`);
        return ExitCode.FAILED;
      }
      try {
        return await runShell(
          deployment,
          streams,
          values.command === undefined ? {} : { commands: values.command },
        );
      } finally {
        await deployment.close();
      }
    }
    case 'demo': {
      if (rest.includes('--help') || rest.includes('-h')) {
        print(demoHelp());
        return ExitCode.OK;
      }
      if (rest.length > 0) return fail(`demo takes no arguments, got '${rest[0]}'`, USAGE.demo);
      return runDemo({ out: (line) => streams.output.write(`${line}\n`) });
    }
    case 'dev':
      return runDevCommand(rest, streams);
    case 'gateway':
      return runGatewayCommand(rest, streams);
    case 'deploy':
    case 'synth':
    case 'destroy':
      if (namesGcp(rest)) return runGcpDeployCommand(command, rest, streams);
      return runDeployCommand(command, rest, streams);
    case 'cost':
      streams.errorOutput.write(
        `Error: faaskeeper ${command} is not available yet (it comes with the provider packages)\n`,
      );
      return ExitCode.FAILED;
    default:
      return fail(`unknown command '${command}' (faaskeeper help lists the commands)`);
  }
}
