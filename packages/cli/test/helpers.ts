import { PassThrough, Readable } from 'node:stream';
import { generateDigest } from '@faaskeeper/core';
import zookeeper from 'node-zookeeper-client';
import type { ShellOutput } from '../src/index.js';

/** A {@link ShellOutput} that keeps every line, and lets a test await a line it expects. */
export class CapturedOutput implements ShellOutput {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  out = (line: string): void => {
    this.stdout.push(line);
    for (const w of this.waiters.filter((w) => w.match(line))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(line);
    }
  };

  err = (line: string): void => {
    this.stderr.push(line);
  };

  /** Resolves with the first stdout line (already printed or still to come) equal to `line`. */
  line(line: string): Promise<string> {
    if (this.stdout.includes(line)) return Promise.resolve(line);
    return new Promise((resolve) => this.waiters.push({ match: (l) => l === line, resolve }));
  }

  clear(): void {
    this.stdout.length = 0;
    this.stderr.length = 0;
  }
}

/** Streams for `main()`: stdin from `input` (not a TTY), stdout and stderr collected as text. */
export function memoryStreams(input = '') {
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  errorOutput.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  return {
    streams: { input: Readable.from([input]), output, errorOutput },
    stdout: () => out,
    stderr: () => err,
  };
}

/** A node-zookeeper-client call as a promise of its callback's results. */
export function call<T extends unknown[]>(
  fn: (cb: (error: unknown, ...rest: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => fn((error, ...rest) => (error ? reject(error) : resolve(rest))));
}

/** A connected node-zookeeper-client session, authenticated with each of `auth` (digest user:password). */
export async function zkSession(connectString: string, auth: string[] = []): Promise<zookeeper.Client> {
  const zk = zookeeper.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 50, retries: 0 });
  for (const credential of auth) zk.addAuthInfo('digest', Buffer.from(credential));
  await new Promise<void>((resolve) => {
    zk.once('connected', () => resolve());
    zk.connect();
  });
  return zk;
}

/** The data of `path`, or the name of the ZooKeeper error reading it failed with (`NO_AUTH`). */
export async function readAs(zk: zookeeper.Client, path: string): Promise<string> {
  try {
    const [data] = await call<[Buffer]>((cb) => zk.getData(path, cb));
    return data.toString();
  } catch (error) {
    if (error instanceof zookeeper.Exception) return error.getName();
    throw error;
  }
}

/**
 * Creates, as `owner` (a session authenticated as `alice:wonderland`), `/guarded` ("alice only"),
 * which only alice may touch, and `/local` ("from here"), which only clients at 127.0.0.1 may read.
 */
export async function createGuardedNodes(owner: zookeeper.Client): Promise<void> {
  const alice = new zookeeper.Id('digest', generateDigest('alice:wonderland'));
  const local = new zookeeper.Id('ip', '127.0.0.1');
  const persistent = zookeeper.CreateMode.PERSISTENT;
  await call((cb) =>
    owner.create(
      '/guarded',
      Buffer.from('alice only'),
      [new zookeeper.ACL(zookeeper.Permission.ALL, alice)],
      persistent,
      cb,
    ),
  );
  await call((cb) =>
    owner.create(
      '/local',
      Buffer.from('from here'),
      [new zookeeper.ACL(zookeeper.Permission.READ, local)],
      persistent,
      cb,
    ),
  );
}
