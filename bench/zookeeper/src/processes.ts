/**
 * What the benchmark scripts share: the gateway in a child process (`gateway-child.js`) and
 * node-zookeeper-client sessions.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRunning, stopPid } from '@faaskeeper/zookeeper-reference';
import zookeeper from 'node-zookeeper-client';
import type { ChildReply, ChildRequest } from './gateway-child.js';

/** Promise wrapper: the library's callbacks get `(error, result)`. */
export function call<T>(f: (cb: (error: unknown, result?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => f((error, result) => (error ? reject(error) : resolve(result))));
}

/** Opens a session; a small spin delay so a reconnect, should one happen, costs ≤ 5 ms. */
export function connectZooKeeper(connectString: string): Promise<zookeeper.Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 30_000, spinDelay: 5, retries: 0 });
  return new Promise((resolve, reject) => {
    // Bounded: a session that cannot be established fails the run instead of hanging it.
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no ZooKeeper session on ${connectString} within 30 s`));
    }, 30_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

/** A gateway in a child process (`gateway-child.js`), stopped by its PID. */
export interface GatewayChild {
  readonly pid: number;
  readonly connectString: string;
  /** The child's `process.memoryUsage()` after full collections. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** The child's `process.cpuUsage()` (CPU time it has used, in microseconds) and the bytes its heap has allocated. */
  cpu(): Promise<{ usage: NodeJS.CpuUsage; allocatedBytes: number }>;
  /** Asks it to close, waits for it to exit; SIGTERM, then SIGKILL, by PID if it does not within 10 s. */
  stop(): Promise<void>;
}

/** A reply of the child, bounded: a child that stops answering fails the run instead of hanging it. */
function nextReply<T extends ChildReply['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<ChildReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`gateway child: no '${type}' within 30 s`)), 30_000);
    const onMessage = (message: ChildReply) => {
      if (message.type === type) finish(undefined, message as Extract<ChildReply, { type: T }>);
      else if (message.type === 'error') finish(new Error(`gateway child: ${message.message}`));
    };
    const onExit = (code: number | null) =>
      finish(new Error(`gateway child exited (${code}) before '${type}'`));
    const finish = (error?: Error, reply?: Extract<ChildReply, { type: T }>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (reply !== undefined) resolve(reply);
      else reject(error);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Forks the gateway child and waits for it to listen. `execArgv` adds Node options (`--cpu-prof`
 * for a profile of the gateway's side); `env` adds environment variables (`FAASKEEPER_BENCH_ALLOC_PROFILE`).
 */
export async function startGatewayChild(
  execArgv: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<GatewayChild> {
  const child = fork(fileURLToPath(new URL('./gateway-child.js', import.meta.url)), [], {
    execArgv: ['--expose-gc', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not fork the gateway child');
  // 'exit' cannot wait: should this process die mid-run, the child goes by its PID (it also exits on
  // its own when the IPC channel disconnects).
  const killOnExit = () => {
    try {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    } catch (error) {
      // ESRCH: it exited between the check and the kill, which is all this wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready: Extract<ChildReply, { type: 'ready' }>;
  try {
    ready = await nextReply(child, 'ready');
  } catch (error) {
    await stopPid(pid);
    throw error;
  }
  const request = (message: ChildRequest) => child.send(message);
  return {
    pid,
    connectString: ready.connectString,
    memory: async () => {
      const reply = nextReply(child, 'memory');
      request({ type: 'memory' });
      return (await reply).usage;
    },
    cpu: async () => {
      const reply = nextReply(child, 'cpu');
      request({ type: 'cpu' });
      const { usage, allocatedBytes } = await reply;
      return { usage, allocatedBytes };
    },
    stop: async () => {
      if (child.connected) request({ type: 'close' });
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), 10_000).unref(),
      );
      if ((await Promise.race([exited, timeout])) === 'timeout') await stopPid(pid);
      process.off('exit', killOnExit);
    },
  };
}

/**
 * CPU time (user + system, microseconds) process `pid` has used so far, all its threads together,
 * from Linux's `/proc/<pid>/stat` (in clock ticks, 10 ms each where `getconf CLK_TCK` is 100, as
 * on Linux everywhere: a measurement of 20,000 operations lasts long enough for that to be fine).
 * `undefined` where there is no `/proc` (not Linux).
 */
export function processCpuUs(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10_000 : undefined;
}
