import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  type ACL,
  type AddWatchMode,
  CreateMode,
  type FaaSKeeperClient,
  FaaSKeeperError,
  parseAclText,
  permString,
  type RemoveWatchesOptions,
  type Stat,
} from '@faaskeeper/client';
import { cliVersion } from '../version.js';
import { eventBlock, formatList, formatStat, type ShellEvent, zkErrorText } from './format.js';
import { type CommandLine, TokenizeError, tokenize } from './tokenize.js';

export { formatEvent, formatStat } from './format.js';

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
  /** zkCli's usage line for the command (its options, in its order). */
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

const joinPath = (parent: string, child: string) => (parent === '/' ? `/${child}` : `${parent}/${child}`);
const isNoNode = (error: unknown) => error instanceof FaaSKeeperError && error.code === 'NONODE';

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

/** The expected version of `-v`, or -1 (any) without it. */
const versionOf = (values: Values, usage: string) =>
  values.version === undefined ? -1 : parseInteger('version', values.version as string, usage, -1);

/** A node met by {@link breadthFirst}: its path, its stat and its children. */
interface Visited {
  path: string;
  stat: Stat;
  children: string[];
}

/**
 * The node at `root` and every descendant, breadth first with children sorted: the order zkCli's
 * `ls -R` prints (ZKUtil.listSubTreeBFS). A descendant deleted during the walk is skipped; a
 * missing `root` is NONODE.
 */
async function* breadthFirst(client: FaaSKeeperClient, root: string): AsyncGenerator<Visited> {
  const queue = [root];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    let node: { children: string[]; stat: Stat };
    try {
      node = await client.getChildren(path);
    } catch (error) {
      // A node deleted while we walk is not an error of this walk.
      if (path !== root && isNoNode(error)) continue;
      throw error;
    }
    yield { path, ...node };
    for (const c of node.children) queue.push(joinPath(path, c));
  }
}

const help: Options[string] = { type: 'boolean', short: 'h' };

/** How zkCli names the watch classes `removewatches` takes, and the event each removal reports. */
const WATCH_REMOVALS: { type: NonNullable<RemoveWatchesOptions['type']>; event: string }[] = [
  { type: 'children', event: 'ChildWatchRemoved' },
  { type: 'data', event: 'DataWatchRemoved' },
  { type: 'persistent', event: 'PersistentWatchRemoved' },
  { type: 'recursive', event: 'PersistentWatchRemoved' },
];

const ADD_WATCH_MODES: readonly AddWatchMode[] = ['PERSISTENT', 'PERSISTENT_RECURSIVE'];

/**
 * An ACL in zkCli's text form (`world:anyone:cdrwa,digest:u:hash:r`). As zkCli, entries it cannot
 * read are reported on stderr and left out; the server judges the rest (INVALIDACL if none is left).
 */
function aclArgument(shell: Shell, text: string): ACL[] {
  const { acl, problems } = parseAclText(text);
  for (const problem of problems) shell.output.err(problem);
  return acl;
}

/** zkCli's lines for an ACL: `'scheme,'id` then `: perms`, per entry. */
const aclLines = (acl: readonly ACL[]): string[] =>
  acl.flatMap((a) => [`'${a.id.scheme},'${a.id.id}`, `: ${permString(a.perms)}`]);

/** Every path of the subtree at `root`, parents before their children (zkCli's `setAcl -R` order). */
async function subtree(client: FaaSKeeperClient, root: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const node of breadthFirst(client, root)) paths.push(node.path);
  return paths;
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'ls',
    usage: 'ls [-s] [-w] [-R] path',
    summary: "list a node's children as [a, b] (path defaults to /)",
    details: [
      '-s  also print the stat',
      '-w  leave a one-shot children watch; its event prints when it fires',
      '-R  recursive: the node and every descendant as full paths, breadth first',
    ],
    options: {
      stat: { type: 'boolean', short: 's' },
      watch: { type: 'boolean', short: 'w' },
      recursive: { type: 'boolean', short: 'R' },
    },
    positionals: [0, 1],
    async run(shell, values, [path = '/']) {
      if (values.recursive) {
        for await (const node of breadthFirst(shell.client, path)) shell.output.out(node.path);
        return undefined;
      }
      const { children, stat } = await shell.client.getChildren(
        path,
        values.watch ? { watch: shell.printEvent } : {},
      );
      shell.output.out(formatList(children));
      if (values.stat) shell.printStat(stat);
      return undefined;
    },
  },
  {
    name: 'get',
    usage: 'get [-s] [-w] path',
    summary: "print a node's data, null when it has none (-s: and its stat; -w: watch it once)",
    details: ['-s  also print the stat', '-w  leave a one-shot data watch; its event prints when it fires'],
    options: { stat: { type: 'boolean', short: 's' }, watch: { type: 'boolean', short: 'w' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const { data, stat, nullData } = await shell.client.getData(
        path!,
        values.watch ? { watch: shell.printEvent } : {},
      );
      shell.output.out(nullData === true ? 'null' : decoder.decode(data));
      if (values.stat) shell.printStat(stat);
      return undefined;
    },
  },
  {
    name: 'set',
    usage: 'set [-s] [-v version] path data',
    summary: "replace a node's data (-v: only if its version matches)",
    details: [
      '-s          print the new stat',
      '-v version  fail ("version No is not valid") unless the version matches',
    ],
    options: { stat: { type: 'boolean', short: 's' }, version: { type: 'string', short: 'v' } },
    positionals: [2, 2],
    async run(shell, values, [path, data]) {
      const version = versionOf(values, 'set [-s] [-v version] path data');
      const stat = await shell.client.setData(path!, data!, { version });
      if (values.stat) shell.printStat(stat);
      return undefined;
    },
  },
  {
    name: 'create',
    usage: 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]',
    summary:
      'create a node and print "Created <path>" (without data, its data is null; acl: scheme:id:perm,…)',
    details: [
      '-s      sequential: a 10-digit counter is appended to the name',
      '-e      ephemeral: deleted when this session ends',
      '-c      container: deleted once its last child is deleted',
      '-t ttl  TTL node: deleted once unchanged and childless for ttl ms',
    ],
    options: {
      sequential: { type: 'boolean', short: 's' },
      ephemeral: { type: 'boolean', short: 'e' },
      container: { type: 'boolean', short: 'c' },
      ttl: { type: 'string', short: 't' },
    },
    positionals: [1, 3],
    async run(shell, values, [path, data, aclText]) {
      const usage = 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]';
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
      // zkCli's `create /a` stores null data (its `get` prints "null"), not empty bytes.
      const acl = aclText === undefined ? undefined : aclArgument(shell, aclText);
      let created: string;
      try {
        created = await shell.client.create(path!, data ?? null, {
          mode,
          ...(ttlMs === undefined ? {} : { ttlMs }),
          ...(acl === undefined ? {} : { acl }),
        });
      } catch (error) {
        // zkCli's create prints the exception's own message before its sentence for this one.
        if (error instanceof FaaSKeeperError && error.code === 'INVALIDACL')
          shell.output.err(`KeeperErrorCode = InvalidACL for ${path}`);
        throw error;
      }
      shell.output.out(`Created ${created}`);
      return undefined;
    },
  },
  {
    name: 'delete',
    usage: 'delete [-v version] path',
    summary: 'delete a node without children (-v: only if its version matches)',
    details: ['-v version  fail ("version No is not valid") unless the version matches'],
    options: { version: { type: 'string', short: 'v' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      await shell.client.delete(path!, { version: versionOf(values, 'delete [-v version] path') });
      return undefined;
    },
  },
  {
    name: 'deleteall',
    usage: 'deleteall path [-b batch size]',
    summary: 'delete a node and all of its descendants (for /: everything but the root)',
    details: ['-b size  accepted for zkCli scripts; nodes are deleted one by one, children first'],
    options: { batch: { type: 'string', short: 'b' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      if (values.batch !== undefined)
        parseInteger('batch size', values.batch as string, 'deleteall path [-b batch size]', 1);
      const remove = async (p: string): Promise<void> => {
        let children: string[] = [];
        try {
          ({ children } = await shell.client.getChildren(p));
        } catch (error) {
          if (p !== path && isNoNode(error)) return; // deleted meanwhile by someone else: fine
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
          if (p === path || !isNoNode(error)) throw error;
        }
      };
      await remove(path!);
      return undefined;
    },
  },
  {
    name: 'stat',
    usage: 'stat [-w] path',
    summary: "print a node's stat (-w: watch it once, also for its creation)",
    details: ['-w  leave a one-shot watch (set even when the node does not exist yet)'],
    options: { watch: { type: 'boolean', short: 'w' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const stat = await shell.client.exists(path!, values.watch ? { watch: shell.printEvent } : {});
      if (stat === null) throw new FaaSKeeperError('NONODE', `NONODE: ${path}`, { path: path! });
      shell.printStat(stat);
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
    usage: 'sync path',
    summary: 'wait until every write acknowledged before now is visible to this session',
    options: {},
    positionals: [0, 1],
    async run(shell, _values, [path = '/']) {
      await shell.client.sync(path);
      shell.output.out('Sync is OK');
      return undefined;
    },
  },
  {
    name: 'addWatch',
    usage: 'addWatch [-m mode] path',
    summary: 'leave a persistent watch (mode PERSISTENT or PERSISTENT_RECURSIVE, the default)',
    details: [
      '-m mode  PERSISTENT: events of the node; PERSISTENT_RECURSIVE: of the node and every descendant',
    ],
    options: { mode: { type: 'string', short: 'm' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const mode = (values.mode ?? 'PERSISTENT_RECURSIVE') as AddWatchMode;
      if (!ADD_WATCH_MODES.includes(mode))
        throw new UsageError(`mode must be one of ${ADD_WATCH_MODES.join(', ')}`, 'addWatch [-m mode] path');
      await shell.client.addWatch(path!, shell.printEvent, mode);
      return undefined;
    },
  },
  {
    name: 'removewatches',
    usage: 'removewatches path [-c|-d|-a] [-l]',
    summary: "remove this shell's watches on the node; each removal prints its event",
    details: [
      '-c  children watches only',
      '-d  data watches only (get -w, stat -w, exists -w)',
      '-a  every watch, persistent ones too (the default)',
      '-l  accepted for zkCli scripts: watches are always removed here and at the service',
    ],
    options: {
      children: { type: 'boolean', short: 'c' },
      data: { type: 'boolean', short: 'd' },
      any: { type: 'boolean', short: 'a' },
      local: { type: 'boolean', short: 'l' },
    },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const wanted = WATCH_REMOVALS.filter(
        ({ type }) =>
          values.any === true ||
          (values.children !== true && values.data !== true) ||
          (values.children === true && type === 'children') ||
          (values.data === true && type === 'data'),
      );
      const events = new Set<string>();
      for (const { type, event } of wanted) {
        try {
          await shell.client.removeWatches(path!, shell.printEvent, { type });
          events.add(event);
        } catch (error) {
          if (!(error instanceof FaaSKeeperError && error.code === 'NOWATCHER')) throw error;
        }
      }
      if (events.size === 0)
        throw new FaaSKeeperError('NOWATCHER', `NOWATCHER: no watch on ${path}`, { path: path! });
      // ZooKeeper's client tells a removed watcher so with an event of its own; zkCli prints it.
      for (const type of events) shell.printEvent({ type, path: path! });
      return undefined;
    },
  },
  {
    name: 'getEphemerals',
    usage: 'getEphemerals path',
    summary: 'list the ephemeral nodes of this session whose path starts with path (default: all)',
    options: {},
    positionals: [0, 1],
    async run(shell, _values, [prefix = '/']) {
      // ZooKeeper matches the path as a string prefix (/a also finds /ab/x): walk the parent's
      // children that start with the last segment.
      const slash = prefix.lastIndexOf('/');
      const parent = slash <= 0 ? '/' : prefix.slice(0, slash);
      let roots: string[];
      try {
        const { children } = await shell.client.getChildren(parent);
        roots = prefix === '/' ? ['/'] : children.map((c) => joinPath(parent, c));
      } catch (error) {
        if (!isNoNode(error)) throw error;
        roots = [];
      }
      const found: string[] = [];
      for (const root of roots.filter((r) => r.startsWith(prefix)))
        try {
          for await (const node of breadthFirst(shell.client, root))
            if (node.stat.ephemeralOwner === shell.client.sessionNumber) found.push(node.path);
        } catch (error) {
          if (!isNoNode(error)) throw error; // deleted since it was listed: it has no ephemerals
        }
      shell.output.out(formatList(found.sort()));
      return undefined;
    },
  },
  {
    name: 'getAllChildrenNumber',
    usage: 'getAllChildrenNumber path',
    summary: 'print how many descendants the node has, at every depth',
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [path]) {
      let count = 0;
      for await (const node of breadthFirst(shell.client, path!)) count += node.children.length;
      shell.output.out(String(count));
      return undefined;
    },
  },
  {
    name: 'getAcl',
    usage: 'getAcl [-s] path',
    summary: "print a node's ACL, two lines per entry ('scheme,'id then : perms); needs READ or ADMIN",
    details: ['-s  also print the stat'],
    options: { stat: { type: 'boolean', short: 's' } },
    positionals: [1, 1],
    async run(shell, values, [path]) {
      const { acl, stat } = await shell.client.getACL(path!);
      for (const line of aclLines(acl)) shell.output.out(line);
      if (values.stat) shell.printStat(stat);
      return undefined;
    },
  },
  {
    name: 'setAcl',
    usage: 'setAcl [-s] [-v version] [-R] path acl',
    summary: "replace a node's ACL (acl: scheme:id:perm,…); needs ADMIN",
    details: [
      '-s          print the new stat',
      '-v version  only if the ACL version (aclVersion) matches',
      '-R          the node and every descendant',
    ],
    options: {
      stat: { type: 'boolean', short: 's' },
      version: { type: 'string', short: 'v' },
      recursive: { type: 'boolean', short: 'R' },
    },
    positionals: [2, 2],
    async run(shell, values, [path, aclText]) {
      const usage = 'setAcl [-s] [-v version] [-R] path acl';
      const version = versionOf(values, usage);
      const acl = aclArgument(shell, aclText!);
      if (values.recursive) {
        // Every node of the subtree with the same version, as zkCli's -R; listed before any change,
        // so an ACL that takes away READ does not hide the children still to be set.
        for (const p of await subtree(shell.client, path!)) await shell.client.setACL(p, acl, version);
        return undefined;
      }
      const stat = await shell.client.setACL(path!, acl, version);
      if (values.stat) shell.printStat(stat);
      return undefined;
    },
  },
  {
    name: 'addauth',
    usage: 'addauth scheme auth',
    summary: 'add an identity to the session: addauth digest user:password (another scheme ends the session)',
    options: {},
    positionals: [2, 2],
    async run(shell, _values, [scheme, auth]) {
      try {
        await shell.client.addAuth(scheme!, auth!);
      } catch (error) {
        if (!(error instanceof FaaSKeeperError && error.code === 'AUTHFAILED')) throw error;
        // zkCli learns of a failed authentication from the session's AuthFailed event; the
        // session is over (the client closed it), which the exit code says.
        for (const line of ['', 'WATCHER::', '', 'WatchedEvent state:AuthFailed type:None path:null'])
          shell.output.out(line);
        return ExitCode.FAILED;
      }
      return undefined;
    },
  },
  {
    name: 'printwatches',
    usage: 'printwatches on|off',
    summary: 'turn the printing of watch events on or off; alone, say which',
    options: {},
    positionals: [0, 1],
    async run(shell, _values, [state]) {
      if (state === undefined) {
        shell.output.out(`printwatches is ${shell.printWatches ? 'on' : 'off'}`);
        return undefined;
      }
      if (state !== 'on' && state !== 'off') throw new UsageError('say on or off', 'printwatches on|off');
      shell.printWatches = state === 'on';
      return undefined;
    },
  },
  {
    name: 'history',
    usage: 'history',
    summary: 'list the last 11 commands run, numbered from 0 (redo n runs one again)',
    options: {},
    positionals: [0, 0],
    async run(shell) {
      const last = shell.history.length - 1;
      for (let i = Math.max(0, last - 10); i <= last; i++) shell.output.out(`${i} - ${shell.history[i]}`);
      return undefined;
    },
  },
  {
    name: 'redo',
    usage: 'redo cmdno',
    summary: 'run command number cmdno of the history again',
    options: {},
    positionals: [1, 1],
    async run(shell, _values, [number]) {
      const n = parseInteger('cmdno', number, 'redo cmdno', 0);
      const text = shell.history[n];
      if (text === undefined)
        throw new UsageError(`no command number ${n} (history lists them)`, 'redo cmdno');
      return shell.execute(text);
    },
  },
  {
    name: 'version',
    usage: 'version',
    summary: "print the shell's version",
    options: {},
    positionals: [0, 0],
    async run(shell) {
      shell.output.out(`ZooKeeper CLI version: FaaSKeeper shell ${cliVersion()} (zkCli 3.8 commands)`);
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

/** Other names a command answers to: zkCli's older ones and this shell's earlier ones. */
const ALIASES: Record<string, string> = {
  exit: 'quit',
  rmr: 'deleteall',
  watch: 'addWatch',
  unwatch: 'removewatches',
};

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
    'Commands (zkCli 3.8 names and options; quote data with spaces; separate commands with ;):',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
  ];
}

function commandHelp(spec: CommandSpec): string[] {
  return [`Usage: ${spec.usage}`, `  ${spec.summary}`, ...(spec.details ?? []).map((d) => `  ${d}`)];
}

/**
 * The shell's commands, independent of any terminal: give it a client and an output sink, feed it
 * lines. `execute` never throws: a failure is printed on `err` as zkCli words it (`Node does not
 * exist: /a`), a malformed command as `Error: …` and its usage line, and each is returned as an
 * {@link ExitCode}.
 */
export class Shell {
  /** Every command run so far, as typed (`redo n` records the command it runs again, as zkCli does). */
  readonly history: string[] = [];
  /** Set by `quit`: the caller stops feeding lines. */
  quitRequested = false;
  /** Whether watch events are printed (`printwatches on|off`). */
  printWatches = true;
  /**
   * The watcher `get -w`, `ls -w`, `stat -w`, `exists -w` and `addWatch` leave: prints the event
   * as zkCli does, in a `WATCHER::` block, unless `printwatches off`.
   */
  readonly printEvent = (event: ShellEvent): void => {
    if (!this.printWatches) return;
    for (const line of eventBlock(event)) this.output.out(line);
  };

  constructor(
    readonly client: FaaSKeeperClient,
    readonly output: ShellOutput,
  ) {}

  /** Prints a stat in zkCli's layout. */
  printStat(stat: Stat): void {
    for (const line of formatStat(stat)) this.output.out(line);
  }

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
    const [name, ...args] = command.args;
    const spec = findCommand(name!);
    // `redo n` is recorded as the command it runs again, when it runs it.
    if (spec?.name !== 'redo') this.history.push(command.text);
    if (spec === undefined) {
      this.output.err(`Error: unknown command '${name}' (type help for the list)`);
      return ExitCode.USAGE;
    }
    let path: string | undefined;
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
      path = parsed.positionals[0];
      return (await spec.run(this, parsed.values, parsed.positionals)) ?? ExitCode.OK;
    } catch (error) {
      return this.report(error, path);
    }
  }

  private report(error: unknown, path: string | undefined): ExitCode {
    if (error instanceof UsageError) {
      this.output.err(`Error: ${error.message}`);
      if (error.usage !== undefined) this.output.err(`Usage: ${error.usage}`);
      return ExitCode.USAGE;
    }
    if (error instanceof FaaSKeeperError) {
      this.output.err(error.code === 'UNIMPLEMENTED' ? `Error: ${error.message}` : zkErrorText(error, path));
      return ExitCode.FAILED;
    }
    this.output.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.FAILED;
  }
}
