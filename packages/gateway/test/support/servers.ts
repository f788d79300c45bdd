/**
 * The two servers every compatibility and differential test runs against: a standalone Apache ZooKeeper
 * 3.8 (the reference, through the one launcher in `@faaskeeper/zookeeper-reference`, stopped by its
 * PID) and the gateway over a fresh embedded FaaSKeeper deployment.
 */

import { startGateway } from '@faaskeeper/gateway';
import { startZooKeeper } from '@faaskeeper/zookeeper-reference';

/** Which server a test talks to. */
export type ServerKind = 'zookeeper' | 'gateway';

/** A running server: its connect string and how to stop it. */
export interface RunningServer {
  kind: ServerKind;
  connectString: string;
  close(): Promise<void>;
}

/** Options for the reference ZooKeeper. */
export interface ReferenceOptions {
  /** Four-letter words to allow; none by default. */
  fourLetterWords?: readonly string[];
}

/**
 * A standalone ZooKeeper with TTL nodes enabled (`zookeeper.extendedTypesEnabled`, off by default in
 * 3.8) and the container/TTL reaper slowed to once an hour, so no node disappears mid-transcript on one
 * server only.
 */
export async function startReferenceZooKeeper(options: ReferenceOptions = {}): Promise<RunningServer> {
  const server = await startZooKeeper({
    ...(options.fourLetterWords !== undefined ? { fourLetterWords: options.fourLetterWords } : {}),
    systemProperties: {
      'zookeeper.extendedTypesEnabled': 'true',
      'znode.container.checkIntervalMs': '3600000',
    },
  });
  return { kind: 'zookeeper', connectString: server.connectString, close: () => server.stop() };
}

/** The gateway on a free port of 127.0.0.1, serving a fresh embedded deployment. */
export async function startTestGateway(): Promise<RunningServer> {
  const gateway = await startGateway({ port: 0, log: () => {} });
  return { kind: 'gateway', connectString: gateway.connectString, close: () => gateway.close() };
}

/** Starts the server of `kind`. */
export function startServer(kind: ServerKind, options: ReferenceOptions = {}): Promise<RunningServer> {
  return kind === 'zookeeper' ? startReferenceZooKeeper(options) : startTestGateway();
}
