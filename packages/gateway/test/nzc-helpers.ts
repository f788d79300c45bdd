/** Promise helpers around node-zookeeper-client, and a TCP proxy a test can cut. */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import zookeeper from 'node-zookeeper-client';
import { expect } from 'vitest';

export type Zk = zookeeper.Client;

/** A connected node-zookeeper-client. */
export async function connectZk(connectString: string, options: Record<string, unknown> = {}): Promise<Zk> {
  const client = zookeeper.createClient(connectString, {
    sessionTimeout: 10_000,
    spinDelay: 50,
    retries: 5,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node-zookeeper-client did not connect')), 10_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return client;
}

/** Calls a callback-style method, resolving its results (the first is the error). */
export function call<T extends unknown[]>(
  fn: (cb: (error: unknown, ...rest: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => fn((error, ...rest) => (error ? reject(error) : resolve(rest))));
}

/** The ZooKeeper error code a callback failed with. */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (error) {
    return (error as zookeeper.Exception).getCode();
  }
  throw new Error('expected the operation to fail');
}

/** A long from node-zookeeper-client's Stat (an 8-byte buffer) as a number. */
export const long = (b: Buffer): number => Number(b.readBigInt64BE(0));

/**
 * A TCP proxy in front of the gateway: `cut()` drops every connection, as a network failure would;
 * `retarget()` sends the connections made from then on to another gateway.
 */
export interface Proxy {
  connectString: string;
  cut(): void;
  retarget(target: { host: string; port: number }): void;
  close(): Promise<void>;
}

export async function startProxy(first: { host: string; port: number }): Promise<Proxy> {
  let target = first;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((down) => {
    const up = tcpConnect(target.port, target.host);
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    down.pipe(up);
    up.pipe(down);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    connectString: `127.0.0.1:${port}`,
    cut: () => cutAll(pairs),
    retarget: (next) => {
      target = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll(pairs);
        server.close(() => resolve());
      }),
  };
}

function cutAll(pairs: Set<[Socket, Socket]>): void {
  for (const [down, up] of pairs) {
    down.destroy();
    up.destroy();
  }
  pairs.clear();
}

/** Resolves with the first value `on` delivers, or rejects after `ms`. */
export function next<T>(
  on: (deliver: (value: T) => void) => void,
  ms = 10_000,
  what = 'an event',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    on((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/**
 * Creates `/seq` and three sequential and one ephemeral sequential child under it, and checks
 * ZooKeeper's names: a 10-digit counter of the parent's creations, shared by both modes.
 */
export async function expectSequentialNames(zk: Zk): Promise<void> {
  await call((cb) => zk.create('/seq', cb));
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    const [p] = await call<[string]>((cb) =>
      zk.create('/seq/n-', zookeeper.CreateMode.PERSISTENT_SEQUENTIAL, cb),
    );
    names.push(p);
  }
  expect(names).toEqual(['/seq/n-0000000000', '/seq/n-0000000001', '/seq/n-0000000002']);
  const [eph] = await call<[string]>((cb) =>
    zk.create('/seq/e-', zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb),
  );
  expect(eph).toBe('/seq/e-0000000003');
}
