/**
 * The real ZooKeeper peers the compatibility tests drive come from Debian (`.ci/run` installs them):
 * the server and zkCli.sh (`zookeeper`), a JDK to compile the Java client programs, and kazoo for
 * `/usr/bin/python3`. Where one is missing the suites are not registered and one test says why: it
 * is skipped on a developer's machine and fails on CI (`requireOrSkip`), so CI never passes by not
 * running them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { describe, it } from 'vitest';
import { ZKCLI } from './zkcli.js';

/** A peer a test file needs. */
export type Peer = 'zookeeper' | 'javac' | 'kazoo' | 'zkcli';

const runs = (command: string, args: string[]): boolean => spawnSync(command, args).status === 0;

const CHECKS: Record<Peer, () => string | undefined> = {
  zookeeper: () =>
    existsSync(process.env.ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar') &&
    runs(process.env.JAVA ?? 'java', ['-version'])
      ? undefined
      : 'Apache ZooKeeper 3.8 and a Java runtime (apt-get install zookeeper)',
  javac: () => (runs(process.env.JAVAC ?? 'javac', ['-version']) ? undefined : 'a JDK (javac)'),
  kazoo: () =>
    runs(process.env.KAZOO_PYTHON ?? '/usr/bin/python3', ['-c', 'import kazoo'])
      ? undefined
      : 'kazoo for /usr/bin/python3 (apt-get install python3-kazoo)',
  zkcli: () => (existsSync(ZKCLI) ? undefined : `zkCli.sh at ${ZKCLI} (apt-get install zookeeper)`),
};

/** What of `needs` this machine lacks, as one sentence; undefined when everything is there. */
export function missingPeers(needs: readonly Peer[]): string | undefined {
  const missing = needs.map((p) => CHECKS[p]()).filter((m): m is string => m !== undefined);
  return missing.length === 0 ? undefined : missing.join('; ');
}

/**
 * `describe` for suites that need the peers: where `missing` names something, registers instead one
 * test that skips locally and fails on CI, and the suites given to the returned function do not run.
 */
export function describeWithPeers(
  missing: string | undefined,
  what: string,
): ReturnType<typeof describe.runIf> {
  if (missing !== undefined)
    it(`${what} need their real ZooKeeper peers`, (ctx) => {
      requireOrSkip(ctx, missing, what);
    });
  return describe.runIf(missing === undefined);
}
