import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  CreateMode,
  type FaaSKeeperClient,
  FaaSKeeperError,
  type Stat,
  type WatchedEvent,
} from '@faaskeeper/client';
import { type CommandLine, TokenizeError, tokenize } from './tokenize.js';

/**
 * Where the shell writes: `out` for results (stdout: plain lines that pipe well), `err` for
 * errors and usage (stderr). Each call is one line, without its newline.
 */
export interface ShellOutput {
  out(line: string): void;
  err(line: string): void;
}

/** What a command, a line or a whole script ended with; the CLI's exit code. */
export const ExitCode = {
  /** Everything succeeded. */
  OK: 0,
  /** A command failed (a ZooKeeper error such as NONODE, or the service was unreachable). */
  FAILED: 1,
  /** A command was malformed (unknown command, bad option, wrong number of arguments). */
  USAGE: 2,
} as const;
/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The worse of two outcomes: a usage error outranks a failure, which outranks success. */
export const worse = (a: ExitCode, b: ExitCode): ExitCode => (a > b ? a : b);

/** A malformed command: reported with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  /** One line per option, for `<command> --help`. */
  details?: string[];
  options: Options;
  /** How many positional arguments the command takes. */
  positionals: [min: number, max: number];
  run(shell: Shell, values: Values, positionals: string[]): Promise<ExitCode | undefined>;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const hex = (n: number) => `0x${n.toString(16)}`;

/** Stat in zkCli's layout (`cZxid = 0x…`), one field per line. */
export function formatStat(stat: Stat): string[] {
  return [
    `cZxid = ${hex(stat.czxid)}`,
    `ctime = ${new Date(stat.ctime).toISOString()}`,
    `mZxid = ${hex(stat.mzxid)}`,
    `mtime = ${new Date(stat.mtime).toISOString()}`,
    `pZxid = ${hex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = ${hex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** A watch event as the shell prints it (zkCli's words, on one line so that it greps). */
export function formatEvent(event: WatchedEvent): string {
  return `WatchedEvent type:${event.type} path:${event.path}`;
}

const joinPath = (parent: string, child: string) => (parent === '/' ? `/${child}` : `${parent}/${child}`);

function parseInteger(name: string, text: string | undefined, usage: string, min: number): number {
  if (
    text === undefined ||
    !/^-?\d+$/.test(text) ||
    !Number.isSafeInteger(Number(text)) ||
    Number(text) < min
  )
    throw new UsageError(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(text)}`, usage);
  return Number(text);
}

const help: Options[string] = { type: 'boolean', short: 'h' };

const COMMANDS: CommandSpec[] = [
  {
    name: 'ls',
    usage: 'ls [-R] [path]',
    summary: "list a node's children, one per line (-R: every descendant, as full paths)",
    details: ['-R  recursive: the node and every descendant, depth first, as full paths'],
    options: { recursive: { type: 'boolean', short: 'R' } },
    positionals: [0, 1],
    async run(shell, values, [path = '/']) {
      if (values.recursive) {
        const walk = async (p: string): Promise<void> => {
          let children: string[];
          try {
            ({ children } = await shell.client.getChildren(p));
          } catch (error) {
            // A node deleted while we walk is not an error of this listing.
            if (p !== path && error instanceof FaaSKeeperError && error.code === 'NONODE') return;
            throw error;
          }
          shell.output.out(p);
          for (const c of children) await walk(joinPath(p, c));
        };
        await walk(path);
      } else {
        for (const c of (await shell.client.getChildren(path)).children) shell.output.out(c);
      }
      return undefined;
    },
  },
  {
    name: 'get',
    usage: 'get [-s] [-w] path',
    summary: "print a node's data (-s: and its stat; -w: watch it once)",
    details: ['-s  also print the stat', '-w  leave a one-shot data watch; its event prints when it fires'],
    options: { stat: { type: 'boolean', short: 's' }, watch: { type: 'boolean', short: 'w' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const { data, stat } = await shell.client.getData(
        path!,
        values.watch ? { watch: shell.printEvent } : {},
      );
      shell.output.out(decoder.decode(data));
      if (values.stat) for (const line of formatStat(stat)) shell.output.out(line);
      return undefined;
    },
  },
  {
    name: 'set',
    usage: 'set [-s] [-v version] path data',
    summary: "replace a node's data (-v: only if its version matches)",
    details: [
      '-s          print the new stat',
      '-v version  fail with BADVERSION unless the version matches',
    ],
    options: { stat: { type: 'boolean', short: 's' }, version: { type: 'string', short: 'v' } },
    positionals: [2, 2],
    async run(shell, values, [path, data]) {
      const version =
        values.version === undefined
          ? -1
          : parseInteger('version', values.version as string, 'set [-s] [-v version] path data', -1);
      const stat = await shell.client.setData(path!, data!, { version });
      if (values.stat) for (const line of formatStat(stat)) shell.output.out(line);
      return undefined;
    },
  },
  {
    name: 'create',
    usage: 'create [-e] [-s] [-c] [-t ttl] path [data]',
    summary: 'create a node and print "Created <path>" (the path has its sequence suffix)',
    details: [
      '-e      ephemeral: deleted when this session ends',
      '-s      sequential: a 10-digit counter is appended to the name',
      '-c      container: deleted once its last child is deleted',
      '-t ttl  TTL node: deleted once unchanged and childless for ttl ms',
    ],
    options: {
      ephemeral: { type: 'boolean', short: 'e' },
      sequential: { type: 'boolean', short: 's' },
      container: { type: 'boolean', short: 'c' },
      ttl: { type: 'string', short: 't' },
    },
    positionals: [1, 2],
    async run(shell, values, [path, data]) {
      const usage = 'create [-e] [-s] [-c] [-t ttl] path [data]';
      const kinds = [values.ephemeral && '-e', values.container && '-c', values.ttl !== undefined && '-t'];
      const chosen = kinds.filter((k): k is string => typeof k === 'string');
      if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be combined`, usage);
      if (values.container && values.sequential)
        throw new UsageError('a container node cannot be sequential', usage);
      const seq = values.sequential === true;
      let mode: CreateMode;
      let ttlMs: number | undefined;
      if (values.ttl !== undefined) {
        ttlMs = parseInteger('ttl', values.ttl as string, usage, 1);
        mode = seq ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_WITH_TTL;
      } else if (values.ephemeral) mode = seq ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL;
      else if (values.container) mode = CreateMode.CONTAINER;
      else mode = seq ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.PERSISTENT;
      const created = await shell.client.create(
        path!,
        data ?? '',
        ttlMs === undefined ? { mode } : { mode, ttlMs },
      );
      shell.output.out(`Created ${created}`);
      return undefined;
    },
  },
  {
    name: 'delete',
    usage: 'delete [-v version] path',
    summary: 'delete a node without children (-v: only if its version matches)',
    details: ['-v version  fail with BADVERSION unless the version matches'],
    options: { version: { type: 'string', short: 'v' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const version =
        values.version === undefined
          ? -1
          : parseInteger('version', values.version as string, 'delete [-v version] path', -1);
      await shell.client.delete(path!, { version });
      return undefined;
    },
  },
  {
    name: 'deleteall',
    usage: 'deleteall path',
    summary: 'delete a node and all of its descendants (for /: everything but the root)',
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [path]) {
      const gone = (error: unknown) => error instanceof FaaSKeeperError && error.code === 'NONODE';
      const remove = async (p: string): Promise<void> => {
        let children: string[] = [];
        try {
          ({ children } = await shell.client.getChildren(p));
        } catch (error) {
          if (p !== path && gone(error)) return; // deleted meanwhile by someone else: fine
          throw error;
        }
        // Children first: ZooKeeper refuses to delete a node that has any (NOTEMPTY).
        for (const c of children) {
          const child = joinPath(p, c);
          if (child !== '/zookeeper') await remove(child);
        }
        if (p === '/') return;
        try {
          await shell.client.delete(p);
        } catch (error) {
          if (p === path || !gone(error)) throw error;
        }
      };
      await remove(path!);
      return undefined;
    },
  },
  {
    name: 'stat',
    usage: 'stat path',
    summary: "print a node's stat",
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [path]) {
      const stat = await shell.client.exists(path!);
      if (stat === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path: path! });
      for (const line of formatStat(stat)) shell.output.out(line);
      return undefined;
    },
  },
  {
    name: 'exists',
    usage: 'exists [-w] path',
    summary: 'print true or false (-w: watch for its creation, change or deletion, once)',
    details: ['-w  leave a one-shot watch; its event prints when it fires'],
    options: { watch: { type: 'boolean', short: 'w' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const stat = await shell.client.exists(path!, values.watch ? { watch: shell.printEvent } : {});
      shell.output.out(stat === null ? 'false' : 'true');
      return undefined;
    },
  },
  {
    name: 'sync',
    usage: 'sync [path]',
    summary: 'wait until every write acknowledged before now is visible to this session',
    options: {},
    positionals: [0, 1],
    async run(shell, _values, [path = '/']) {
      await shell.client.sync(path);
      return undefined;
    },
  },
  {
    name: 'watch',
    usage: 'watch path',
    summary: 'print every event on the node and its descendants as it arrives (until unwatch)',
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [path]) {
      await shell.client.addWatch(path!, shell.printEvent, 'PERSISTENT_RECURSIVE');
      return undefined;
    },
  },
  {
    name: 'unwatch',
    usage: 'unwatch path',
    summary: 'remove the watches this shell set on the node',
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [path]) {
      await shell.client.removeWatches(path!, shell.printEvent);
      return undefined;
    },
  },
  {
    name: 'history',
    usage: 'history',
    summary: 'list the commands run so far',
    options: {},
    positionals: [0, 0],
    async run(shell) {
      shell.history.forEach((text, i) => {
        shell.output.out(`${i} - ${text}`);
      });
      return undefined;
    },
  },
  {
    name: 'help',
    usage: 'help [command]',
    summary: 'list the commands, or describe one',
    options: {},
    positionals: [0, 1],
    async run(shell, _values, [name]) {
      if (name === undefined) {
        for (const line of shellHelp()) shell.output.out(line);
        return undefined;
      }
      const spec = findCommand(name);
      if (spec === undefined) throw new UsageError(`unknown command '${name}' (type help for the list)`);
      for (const line of commandHelp(spec)) shell.output.out(line);
      return undefined;
    },
  },
  {
    name: 'quit',
    usage: 'quit',
    summary: 'leave the shell (also: exit)',
    options: {},
    positionals: [0, 0],
    async run(shell) {
      shell.quitRequested = true;
      return undefined;
    },
  },
];

const ALIASES: Record<string, string> = { exit: 'quit', rmr: 'deleteall' };

function findCommand(name: string): CommandSpec | undefined {
  const canonical = ALIASES[name] ?? name;
  return COMMANDS.find((c) => c.name === canonical);
}

/** The shell's command names, for help and tab completion. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** The shell's `help` text: one line per command. */
export function shellHelp(): string[] {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'Commands (options may come in any order; quote data with spaces; separate commands with ;):',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
  ];
}

function commandHelp(spec: CommandSpec): string[] {
  return [`Usage: ${spec.usage}`, `  ${spec.summary}`, ...(spec.details ?? []).map((d) => `  ${d}`)];
}

/**
 * The shell's commands, independent of any terminal: give it a client and an output sink, feed it
 * lines. `execute` never throws: every failure is printed as `Error: CODE: detail` on `err` and
 * returned as an {@link ExitCode}.
 */
export class Shell {
  /** Every command run so far, as typed. */
  readonly history: string[] = [];
  /** Set by `quit`: the caller stops feeding lines. */
  quitRequested = false;
  /** The watcher `get -w`, `exists -w` and `watch` leave: prints the event as it arrives. */
  readonly printEvent = (event: WatchedEvent): void => this.output.out(formatEvent(event));

  constructor(
    readonly client: FaaSKeeperClient,
    readonly output: ShellOutput,
  ) {}

  /**
   * Runs one line (one or more commands separated by `;`), in order, each after the previous
   * finished; stops early after `quit`. Resolves the worst {@link ExitCode} of its commands.
   */
  async execute(line: string): Promise<ExitCode> {
    let commands: CommandLine[];
    try {
      commands = tokenize(line);
    } catch (error) {
      if (!(error instanceof TokenizeError)) throw error;
      this.output.err(`Error: ${error.message}`);
      return ExitCode.USAGE;
    }
    let code: ExitCode = ExitCode.OK;
    for (const command of commands) {
      if (this.quitRequested) break;
      code = worse(code, await this.run(command));
    }
    return code;
  }

  /** Runs one command given as words (`['get', '-s', '/a']`). */
  async run(command: CommandLine): Promise<ExitCode> {
    this.history.push(command.text);
    const [name, ...args] = command.args;
    const spec = findCommand(name!);
    if (spec === undefined) {
      this.output.err(`Error: unknown command '${name}' (type help for the list)`);
      return ExitCode.USAGE;
    }
    try {
      let parsed: { values: Values; positionals: string[] };
      try {
        parsed = parseArgs({
          args,
          options: { ...spec.options, help },
          allowPositionals: true,
          strict: true,
        }) as { values: Values; positionals: string[] };
      } catch (error) {
        throw new UsageError((error as Error).message, spec.usage);
      }
      if (parsed.values.help) {
        for (const line of commandHelp(spec)) this.output.out(line);
        return ExitCode.OK;
      }
      const [min, max] = spec.positionals;
      const n = parsed.positionals.length;
      if (n < min || n > max) {
        const what = n < min ? 'too few arguments' : `unexpected argument '${parsed.positionals[max]}'`;
        throw new UsageError(
          n > max && spec.name === 'set' ? `${what} (quote data that has spaces)` : what,
          spec.usage,
        );
      }
      return (await spec.run(this, parsed.values, parsed.positionals)) ?? ExitCode.OK;
    } catch (error) {
      return this.report(error);
    }
  }

  private report(error: unknown): ExitCode {
    if (error instanceof UsageError) {
      this.output.err(`Error: ${error.message}`);
      if (error.usage !== undefined) this.output.err(`Usage: ${error.usage}`);
      return ExitCode.USAGE;
    }
    if (error instanceof FaaSKeeperError) {
      // The client's messages start with the code ("NONODE: /a"); make sure every one does.
      const message = error.message.startsWith(error.code)
        ? error.message
        : `${error.code}: ${error.message}`;
      this.output.err(`Error: ${message}`);
      return ExitCode.FAILED;
    }
    this.output.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.FAILED;
  }
}
