import { Command, CommanderError, Help, Option } from 'commander';
import { type AwsDeployFlags, type DeployVerb, declareAwsCommand, runAwsDeploy } from './aws-deploy.js';
import { type CostFlags, declareCostCommand, runCostCommand } from './cost/command.js';
import { runDemo } from './demo.js';
import { ConfigError, type DeploymentConfig, openDeployment, readConfig } from './deployment.js';
import { type DevFlags, type DevProvider, declareDevCommand, runDevCommand } from './dev.js';
import { type DigestFlags, declareDigestCommand, runDigestCommand } from './digest.js';
import { declareGatewayCommand, type GatewayFlags, runGatewayCommand } from './gateway.js';
import {
  declareGcpCommand,
  type GcpDeployDependencies,
  type GcpDeployFlags,
  runGcpDeploy,
} from './gcp-deploy.js';
import { ExitCode, UsageError } from './shell/commands.js';
import { runShell, type ShellStreams } from './shell/run-shell.js';
import { cliVersion } from './version.js';

/** The process streams the CLI uses; tests pass their own. */
export type CliStreams = ShellStreams;

/** What the commands run with besides the streams; tests inject fakes. */
export interface CliDependencies {
  /** For `synth`/`deploy`/`destroy gcp`: the terraform runner, the environment, the bootstrap. */
  gcp?: GcpDeployDependencies;
}

/** The `faaskeeper` command line: its declaration, and a runner of one invocation. */
export interface Cli {
  /** Every command, its options and help, declared once (commander). */
  readonly program: Command;
  /** Parses `argv` (without `node` and the script) against {@link Cli.program}, runs it and resolves its exit code. */
  run(argv: readonly string[]): Promise<ExitCode>;
}

const DEPLOY_VERBS: readonly DeployVerb[] = ['deploy', 'synth', 'destroy'];

const VERB_SUMMARY: Record<DeployVerb, string> = {
  deploy: 'deploy FaaSKeeper to a cloud provider',
  synth: "write a cloud provider's deployment without deploying it (offline)",
  destroy: 'remove a deployment from a cloud provider',
};

/** Every command of a declaration, depth first. */
export function commandsOf(command: Command): Command[] {
  return [command, ...command.commands.flatMap(commandsOf)];
}

/** The command's words after `faaskeeper`: `deploy aws`. */
function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The usage line of a command, from its declared options (`[--port port]`, choices as
 * `aws|gcp`) or, for a command of commands, its subcommands.
 */
function declaredUsage(command: Command): string {
  if (command.commands.length > 0) return `${command.commands.map((c) => c.name()).join('|')} [options]`;
  // Arguments first, as they are typed (`dev gcp --deployment d`): choices as `[aws|gcp]`.
  const args = command.registeredArguments.map((argument) => {
    const term = argument.argChoices?.join('|') ?? `${argument.name()}${argument.variadic ? '...' : ''}`;
    return argument.required ? term : `[${term}]`;
  });
  const terms = command.options.map((option) => {
    const flag = option.short ?? option.long ?? option.flags;
    const value = option.argChoices?.join('|') ?? /<([^>]+)>/.exec(option.flags)?.[1];
    const term = value === undefined ? flag : `${flag} ${value}`;
    return option.mandatory ? term : `[${term}]`;
  });
  return [...args, ...terms].join(' ');
}

/**
 * The help of every command: usage lines list the declared options, and the root lists the leaf
 * commands (`deploy aws`), not the verbs alone.
 */
const HELP: Partial<Help> = {
  sortSubcommands: false,
  commandUsage(command: Command): string {
    if (command.parent === null) return `${command.name()} ${command.usage()}`;
    return `faaskeeper ${pathOf(command)} ${declaredUsage(command)}`.trimEnd();
  },
  visibleCommands(this: Help, command: Command): Command[] {
    return Help.prototype.visibleCommands
      .call(this, command)
      .flatMap((c) => (c.commands.length > 0 ? Help.prototype.visibleCommands.call(this, c) : [c]));
  },
  subcommandTerm(command: Command): string {
    // Commander's own help command has no parent: it is listed by its name.
    const path = command.parent === null ? command.name() : pathOf(command);
    // An argument with choices reads as them, before the options, as it is typed: `dev [aws|gcp]`.
    const term = (a: Command['registeredArguments'][number]) => {
      const name = a.argChoices?.join('|') ?? `${a.name()}${a.variadic ? '...' : ''}`;
      return a.required ? `<${name}>` : `[${name}]`;
    };
    const chosen = command.registeredArguments.filter((a) => a.argChoices !== undefined).map(term);
    const args = command.registeredArguments.filter((a) => a.argChoices === undefined).map(term);
    return [path, ...chosen, ...(command.options.length > 0 ? ['[options]'] : []), ...args].join(' ');
  },
};

/**
 * `deploy --region r gcp` is `deploy gcp --region r`: commander dispatches to a subcommand only
 * when it precedes the options, and the CLI takes the provider anywhere among them. The values to
 * step over are those the providers' declared options take.
 */
function providerFirst(program: Command, argv: readonly string[]): string[] {
  const [verb, ...rest] = argv;
  const parent = program.commands.find((c) => c.name() === verb && c.commands.length > 0);
  if (verb === undefined || parent === undefined) return [...argv];
  const takesValue = new Set(
    parent.commands.flatMap((c) => c.options.filter((o) => o.required || o.optional).map((o) => o.long)),
  );
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('-'))
      return i === 0 ? [...argv] : [verb, arg, ...rest.slice(0, i), ...rest.slice(i + 1)];
    if (takesValue.has(arg)) i++;
  }
  return [...argv];
}

/**
 * Declares the `faaskeeper` command line once — commands, options, usage and help — with
 * commander, and runs invocations of it. Each {@link Cli.run} should get a fresh {@link createCli}:
 * commander keeps the parsed values on the commands.
 */
export function createCli(streams: CliStreams, dependencies: CliDependencies = {}): Cli {
  let code: ExitCode = ExitCode.OK;
  const usageError = (command: Command, message: string) => {
    const hint = command.parent === null ? ' (faaskeeper help lists the commands)' : '';
    // One line: commander puts its "Did you mean" suggestion on a line of its own.
    streams.errorOutput.write(
      `Error: ${message
        .replace(/^error: /, '')
        .trim()
        .replace(/\s*\n\s*/g, ' ')}${hint}\n`,
    );
    if (command.parent !== null)
      streams.errorOutput.write(`Usage: ${command.createHelp().commandUsage(command)}\n`);
    return ExitCode.USAGE;
  };
  /** An action: runs the command with its parsed options; a {@link UsageError} it throws gets the usage line. */
  const act =
    <F>(run: (flags: F) => Promise<ExitCode>) =>
    async (flags: F, command: Command) => {
      try {
        code = await run(flags);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        code = usageError(command, error.message);
      }
    };

  const program = new Command('faaskeeper')
    .description('faaskeeper — a serverless ZooKeeper')
    .usage('<command> [options]')
    // The version is read when asked for, not at every start: a bundled CLI has no package.json beside it.
    .addOption(new Option('-V, --version', 'print the version'))
    .helpCommand('help [command...]', "this text, or a command's (as faaskeeper <command> --help)")
    .addHelpText('after', '\nExit codes: 0 success, 1 a command failed, 2 usage error.');

  program.on('option:version', () => {
    const version = cliVersion();
    streams.output.write(`${version}\n`);
    throw new CommanderError(0, 'commander.version', version);
  });

  const shell = program
    .command('shell')
    .summary("a shell with zkCli's commands and output (help inside it lists them)")
    .description(
      `A shell with zkCli 3.8's commands and output formats (docs/differences.md lists what differs). Commands come from -c, from stdin when it is not a terminal (one or more per line), or from an interactive prompt with history and tab completion; type help in the shell for its commands. Results go to stdout, errors to stderr in zkCli's words ("Node does not exist: /a").`,
    )
    .addOption(
      new Option(
        '-c, --command <commands>',
        'run these shell commands ("cmd; cmd") and exit (exit code: the worst of them)',
      ),
    )
    .addOption(
      new Option(
        '--config <file>',
        'a deployment config (JSON, {"provider": "embedded" | "aws" | "gcp", ...}); without it, a fresh embedded (in-memory, in-process) deployment',
      ),
    )
    .addOption(
      // zkCli's `-server host:port` parses as -s with the value "erver" and the address as an
      // argument: both are let through (below), so that a zkCli habit gets directions instead of
      // commander's parser text.
      new Option(
        '-s, --server <host:port...>',
        "zkCli's -server: not taken (the shell reaches a deployment through --config; zkCli.sh itself connects to faaskeeper gateway)",
      ),
    )
    .action(
      act(async (flags: { command?: string; config?: string; server?: string[] }) => {
        if (flags.server !== undefined) {
          const address = [...flags.server, ...shell.args].find((word) => word.includes(':')) ?? 'host:port';
          throw new UsageError(
            `faaskeeper shell takes no -server ${address}: it connects to a deployment named by --config <file> ` +
              '(without one, a fresh embedded deployment). To use zkCli.sh itself, run faaskeeper gateway ' +
              '--config <file> and then zkCli.sh -server 127.0.0.1:2181 (docs/gateway.md).',
          );
        }
        let config: DeploymentConfig | undefined;
        let deployment: Awaited<ReturnType<typeof openDeployment>>;
        try {
          if (flags.config !== undefined) config = await readConfig(flags.config);
          deployment = await openDeployment(config);
        } catch (error) {
          if (error instanceof ConfigError) {
            streams.errorOutput.write(`Error: ${error.message}\n`);
            return ExitCode.USAGE;
          }
          streams.errorOutput.write(`Error: cannot connect: ${(error as Error).message}\n`);
          return ExitCode.FAILED;
        }
        try {
          return await runShell(
            deployment,
            streams,
            flags.command === undefined ? {} : { commands: flags.command },
          );
        } finally {
          await deployment.close();
        }
      }),
    );
  // Only with -s/--server given: the address after zkCli's `-server` is then no excess argument.
  shell.on('option:server', () => shell.allowExcessArguments(true));

  declareGatewayCommand(program).action(act((flags: GatewayFlags) => runGatewayCommand(flags, streams)));

  program
    .command('demo')
    .summary('a narrated tour on the embedded deployment: leader election, a watch, session expiry')
    .description(
      'A narrated tour on the embedded deployment: a leader election among three clients, a watch firing, and a session expiring with the next candidate taking over. Exits 0 when every step behaved as ZooKeeper specifies.',
    )
    .action(act(() => runDemo({ out: (line) => streams.output.write(`${line}\n`) })));

  declareDevCommand(program).action(
    async (provider: DevProvider | undefined, flags: DevFlags, command: Command) =>
      act((parsed: DevFlags) => runDevCommand(provider, parsed, streams))(flags, command),
  );

  for (const verb of DEPLOY_VERBS) {
    const parent = program.command(verb).summary(VERB_SUMMARY[verb]).description(VERB_SUMMARY[verb]);
    parent.helpCommand(false);
    declareAwsCommand(parent, verb).action(
      act((flags: AwsDeployFlags) => runAwsDeploy(verb, flags, streams)),
    );
    declareGcpCommand(parent, verb).action(
      act((flags: GcpDeployFlags) => runGcpDeploy(verb, flags, streams, dependencies.gcp)),
    );
  }

  declareDigestCommand(program).action(async (credentials: string[], flags: DigestFlags, command: Command) =>
    act((parsed: DigestFlags) => runDigestCommand(credentials, parsed, streams))(flags, command),
  );

  declareCostCommand(program).action(act((flags: CostFlags) => runCostCommand(flags, streams)));

  program
    .command('version')
    .description('print the version')
    .action(
      act(async () => {
        streams.output.write(`${cliVersion()}\n`);
        return ExitCode.OK;
      }),
    );

  // A terminal's width, else 80 (what commander assumes without a terminal).
  const columns = (stream: unknown) => (stream as { columns?: number }).columns ?? 80;
  for (const command of commandsOf(program)) {
    command
      .exitOverride()
      .allowExcessArguments(false)
      .configureHelp(HELP)
      .configureOutput({
        writeOut: (text) => streams.output.write(text),
        writeErr: (text) => streams.errorOutput.write(text),
        outputError: (message) => usageError(command, message),
        getOutHelpWidth: () => columns(streams.output),
        getErrHelpWidth: () => columns(streams.errorOutput),
      });
  }

  return {
    program,
    async run(argv) {
      // `help deploy gcp` is `deploy gcp --help` (commander's help command names one command).
      const args = argv[0] === 'help' ? [...argv.slice(1), '--help'] : providerFirst(program, argv);
      try {
        await program.parseAsync(args, { from: 'user' });
      } catch (error) {
        // Help, the version, and usage errors (already written): commander's codes are 0 and 1.
        if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
        throw error;
      }
      return code;
    },
  };
}

/**
 * The CLI: runs one `faaskeeper` invocation and resolves its exit code (0 success, 1 a command
 * failed, 2 usage error). Never throws for a user's mistake; every message goes to the streams.
 */
export function main(
  argv: readonly string[],
  streams: CliStreams,
  dependencies: CliDependencies = {},
): Promise<ExitCode> {
  return createCli(streams, dependencies).run(argv);
}
