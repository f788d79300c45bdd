/**
 * Starts and stops a throw-away standalone Apache ZooKeeper, for the benchmark and for the gateway's
 * compatibility and differential tests (the private package `@faaskeeper/zookeeper-reference`: one launcher,
 * no copies).
 *
 * The JVM is started directly (`java -cp … ZooKeeperServerMain <cfg>`, not through zkServer.sh) so the
 * PID we record is the JVM's own, and it is stopped by that PID only — never by process name. It listens
 * on 127.0.0.1 only, with the admin server off and the four-letter-word commands off unless
 * {@link StartOptions.fourLetterWords} lists some, and keeps its data in a fresh temporary directory (on
 * /dev/shm when there is one) with `forceSync=no`, so the disk is not what gets measured.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Where Debian's `zookeeper` package puts the server jar; its manifest's Class-Path names the other jars. */
const DEBIAN_ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/** An SLF4J binding, so the server logs (to our log file) instead of warning that it has none. */
const DEBIAN_SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';
/**
 * ZooKeeperServerMain starts the container manager right after the server is running, and it logs one
 * INFO line then: that line is our "ready" signal (everything else logs at WARN only).
 */
const READY_LOGGER = 'org.apache.zookeeper.server.ContainerManager';
const READY_MARKER = `${READY_LOGGER} - Using checkIntervalMs`;

/** Exit code used when ZooKeeper or Java is missing (distinct from 1, a failed run). */
export const EXIT_NOT_INSTALLED = 2;

/** Thrown by {@link findZooKeeper} when this machine has no ZooKeeper or no Java. */
export class ZooKeeperNotInstalledError extends Error {
  override name = 'ZooKeeperNotInstalledError';
}

/** What is needed to run the server: the java binary, the class path and the ZooKeeper version. */
export interface ZooKeeperInstallation {
  /** The java executable. */
  java: string;
  /** First line of `java -version`. */
  javaVersion: string;
  /** Class path for the server JVM. */
  classpath: string;
  /** ZooKeeper version, from the jar's file name (for example `3.8.0`), or `unknown`. */
  version: string;
}

/**
 * Finds Debian's ZooKeeper (`apt-get install zookeeper`) and a Java runtime.
 * `JAVA` overrides the java binary, `ZOOKEEPER_JAR` the server jar (whose manifest names its dependencies).
 * @throws ZooKeeperNotInstalledError with a message naming `apt-get install zookeeper`.
 */
export function findZooKeeper(env: NodeJS.ProcessEnv = process.env): ZooKeeperInstallation {
  const zooKeeperJar = env.ZOOKEEPER_JAR ?? DEBIAN_ZOOKEEPER_JAR;
  if (!existsSync(zooKeeperJar)) {
    throw new ZooKeeperNotInstalledError(
      `Apache ZooKeeper is not installed (${zooKeeperJar} is missing). ` +
        'Install it with: apt-get install zookeeper',
    );
  }
  const java = env.JAVA ?? 'java';
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new ZooKeeperNotInstalledError(
      `No Java runtime found ('${java} -version' failed). ` +
        'Install ZooKeeper with its runtime: apt-get install zookeeper',
    );
  }
  // Debian ships zookeeper.jar plus a zookeeper-<version>.jar link to it: the link names the version.
  const jar = realpathSync(zooKeeperJar);
  const dir = dirname(zooKeeperJar);
  const versioned = readdirSync(dir).find(
    (f) => /^zookeeper-\d[\w.]*\.jar$/.test(f) && realpathSync(join(dir, f)) === jar,
  );
  const version = versioned?.slice('zookeeper-'.length, -'.jar'.length) ?? 'unknown';
  const classpath = [zooKeeperJar, ...(existsSync(DEBIAN_SLF4J_SIMPLE_JAR) ? [DEBIAN_SLF4J_SIMPLE_JAR] : [])];
  return {
    java,
    javaVersion: (probe.stderr || probe.stdout).split('\n')[0]?.trim() ?? 'unknown',
    classpath: classpath.join(':'),
    version,
  };
}

/** Options of {@link startZooKeeper}. */
export interface StartOptions {
  /** From {@link findZooKeeper}; looked up when absent. */
  installation?: ZooKeeperInstallation;
  /** Directory for config, data, log and PID file; a fresh temporary one (removed on stop) when absent. */
  dir?: string;
  /** Client port on 127.0.0.1; a free one when absent. */
  port?: number;
  /**
   * Leave the JVM running when this process exits (for the `start` command). Otherwise the server is
   * stopped on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error.
   */
  detached?: boolean;
  /** How long to wait for the port to accept connections. Default 30 s. */
  readyTimeoutMs?: number;
  /**
   * Four-letter-word commands to allow (`4lw.commands.whitelist`), for example `['ruok', 'srvr', 'stat']`
   * or `['*']` for all. Default: none, so a benchmark never pays for them.
   */
  fourLetterWords?: readonly string[];
  /**
   * Extra JVM system properties (`-Dkey=value`), for example `zookeeper.extendedTypesEnabled: 'true'`
   * to allow TTL nodes.
   */
  systemProperties?: Readonly<Record<string, string>>;
}

/** A running ZooKeeper started by {@link startZooKeeper}. */
export interface ZooKeeperServer {
  /** The JVM's PID (also in {@link ZooKeeperServer.pidFile}). */
  pid: number;
  /** Client port on 127.0.0.1. */
  port: number;
  /** Connect string for clients. */
  connectString: string;
  /** Directory holding zoo.cfg, data/, zookeeper.log and zookeeper.pid. */
  dir: string;
  /** File with the JVM's PID. */
  pidFile: string;
  /** `performance.now()` just before the JVM was spawned (for start-up timing). */
  spawnedAt: number;
  /** Stops the JVM by its PID, waits until it is gone, and removes a temporary directory. */
  stop(): Promise<void>;
}

/** Servers this process must stop when it exits. */
const live = new Map<number, { dir: string; removeDir: boolean }>();
let handlersInstalled = false;

/** Stops every server still tracked, then exits: used on signals so Ctrl-C never leaves a JVM behind. */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' cannot wait, so the JVM gets SIGKILL: nothing of it is worth keeping on this path.
  process.on('exit', () => {
    for (const [pid, { dir, removeDir }] of live) {
      killQuietly(pid, 'SIGKILL');
      if (removeDir) rmSync(dir, { recursive: true, force: true });
    }
  });
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [signal, code] of signals) {
    process.once(signal, () => {
      console.error(`${signal}: stopping ZooKeeper`);
      void Promise.allSettled([...live.keys()].map((pid) => stopPid(pid))).finally(() => process.exit(code));
    });
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Whether a process with this PID exists (a zombie, dead but not yet reaped, does not count). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but is not ours — still "running" for our purposes.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A detached JVM is reaped by init, which in a container may never happen: read its state.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc at all: trust kill(0). With /proc, the process vanished since kill(0).
    return !existsSync('/proc/self/stat');
  }
}

/**
 * Whether `pid` is still the ZooKeeper JVM we started with `cfgFile` (guards against a recycled PID
 * when stopping from a PID file). Where /proc is unavailable the PID file is trusted.
 */
export function isOurZooKeeper(pid: number, cfgFile: string): boolean {
  const cmdlineFile = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return isRunning(pid);
  try {
    const args = readFileSync(cmdlineFile, 'utf8').split('\0');
    return args.includes(MAIN_CLASS) && args.includes(cfgFile);
  } catch {
    return false;
  }
}

/** Sends SIGTERM to `pid`, waits up to `graceMs` for it to exit, then SIGKILL; resolves once it is gone. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  killQuietly(pid, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (isRunning(pid) && performance.now() < deadline) await delay(20);
  if (isRunning(pid)) {
    killQuietly(pid, 'SIGKILL');
    while (isRunning(pid)) await delay(20);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Temporary directories go to RAM when the machine has /dev/shm, so the data directory is "in memory". */
function tempBase(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * The server configuration: loopback only, no admin server, no fsync, and only the listed four-letter
 * words (none by default).
 */
export function zooCfg(dataDir: string, port: number, fourLetterWords: readonly string[] = []): string {
  return [
    'tickTime=2000',
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    'admin.enableServer=false',
    // An empty whitelist turns every four-letter-word command off (the default allows `srvr`).
    `4lw.commands.whitelist=${fourLetterWords.join(',')}`,
    'forceSync=no',
    // The benchmark opens one client at a time; the default limit (60) is fine but set it explicitly.
    'maxClientCnxns=60',
    'autopurge.purgeInterval=0',
    '',
  ].join('\n');
}

/**
 * Starts a standalone ZooKeeper JVM and resolves once its client port accepts TCP connections and the
 * server reports that it is running.
 * On failure (JVM exits, timeout) the JVM is stopped and the error carries the log's tail.
 */
export async function startZooKeeper(options: StartOptions = {}): Promise<ZooKeeperServer> {
  // A port picked by freePort is free only until the JVM binds it, a second or more later; another
  // process's listener or outgoing connection can take it meanwhile. Then the JVM exits at once
  // ("Address already in use") and another port is picked; a port the caller chose is not changed.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = error instanceof Error && error.message.includes(PORT_TAKEN);
      if (!portTaken || options.port !== undefined || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

/** How often {@link startZooKeeper} picks another port when the one it picked was taken. */
const PORT_ATTEMPTS = 3;
/** What the JVM logs (java.net.BindException) when its client port is taken. */
const PORT_TAKEN = 'Address already in use';

async function startOnce(options: StartOptions): Promise<ZooKeeperServer> {
  const installation = options.installation ?? findZooKeeper();
  const removeDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tempBase(), 'faaskeeper-bench-zookeeper-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = options.port ?? (await freePort());
  const cfgFile = join(dir, 'zoo.cfg');
  const logFile = join(dir, 'zookeeper.log');
  const pidFile = join(dir, 'zookeeper.pid');
  const fourLetterWords = options.fourLetterWords ?? [];
  writeFileSync(cfgFile, zooCfg(join(dir, 'data'), port, fourLetterWords));
  writeFileSync(join(dir, 'zookeeper.port'), `${port}\n`);

  const logFd = openSync(logFile, 'a');
  const args = [
    '-Xms256m',
    '-Xmx1g',
    // Also as system properties, in case a version ignores them in zoo.cfg.
    '-Dzookeeper.admin.enableServer=false',
    `-Dzookeeper.4lw.commands.whitelist=${fourLetterWords.join(',')}`,
    ...Object.entries(options.systemProperties ?? {}).map(([key, value]) => `-D${key}=${value}`),
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    `-Dorg.slf4j.simpleLogger.log.${READY_LOGGER}=info`,
    '-cp',
    installation.classpath,
    MAIN_CLASS,
    cfgFile,
  ];
  installExitHandlers();
  const spawnedAt = performance.now();
  const child = spawn(installation.java, args, {
    stdio: ['ignore', logFd, logFd],
    detached: options.detached === true,
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    if (removeDir) rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start ${installation.java}`);
  }
  // Tracked from the first moment, so an error or a signal while starting still stops the JVM.
  live.set(pid, { dir, removeDir });
  writeFileSync(pidFile, `${pid}\n`);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
  });
  // Without a listener a spawn failure would be an uncaught 'error' event instead of a clean stop.
  child.once('error', (error) => {
    exited = error.message;
  });

  const stop = async () => {
    await stopPid(pid);
    live.delete(pid);
    if (removeDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = performance.now() + (options.readyTimeoutMs ?? 30_000);
    const check = () => {
      if (exited !== undefined) throw new Error(`ZooKeeper exited while starting (${exited})`);
      if (performance.now() > deadline) throw new Error('ZooKeeper did not become ready in time');
    };
    while (!(await canConnect(port))) {
      check();
      await delay(5);
    }
    // The port accepts before the server runs, and a session request in that window can hang for good
    // (3.8.0: "ZooKeeperServer not running", then a NullPointerException on close). So wait for the
    // line logged once start-up is complete (a real client would time out and retry; waiting for the
    // line keeps that timeout out of the start-up figure).
    while (!readFileSync(logFile, 'utf8').includes(READY_MARKER)) {
      check();
      await delay(5);
    }
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
    await stop();
    throw new Error(`${(error as Error).message}; log tail:\n${log}`);
  }

  if (options.detached === true) {
    // Meant to outlive this process: the `stop` command ends it through the PID file.
    live.delete(pid);
    child.unref();
  }
  return { pid, port, connectString: `127.0.0.1:${port}`, dir, pidFile, spawnedAt, stop };
}
