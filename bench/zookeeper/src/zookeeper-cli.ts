/**
 * `node bench/zookeeper/dist/zookeeper-cli.js start|stop [--dir D] [--port P]` — a standalone ZooKeeper
 * for trying things by hand. `start` leaves the JVM running and writes its PID to `D/zookeeper.pid`;
 * `stop` stops exactly that PID (after checking it is still our JVM) and removes `D`.
 * Exits 2 with an `apt-get install zookeeper` hint when ZooKeeper is not installed.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EXIT_NOT_INSTALLED,
  findZooKeeper,
  isOurZooKeeper,
  isRunning,
  startZooKeeper,
  stopPid,
  ZooKeeperNotInstalledError,
} from '@faaskeeper/zookeeper-reference';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: join(tmpdir(), 'faaskeeper-bench-zookeeper') },
    port: { type: 'string' },
  },
});

async function start(dir: string): Promise<void> {
  const pidFile = join(dir, 'zookeeper.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (isOurZooKeeper(pid, join(dir, 'zoo.cfg'))) {
      throw new Error(`ZooKeeper already running (PID ${pid}, ${pidFile}); stop it first`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const installation = findZooKeeper();
  const server = await startZooKeeper({
    installation,
    dir,
    detached: true,
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  });
  console.log(
    JSON.stringify({
      pid: server.pid,
      connectString: server.connectString,
      dir,
      version: installation.version,
    }),
  );
}

async function stop(dir: string): Promise<void> {
  const pidFile = join(dir, 'zookeeper.pid');
  if (!existsSync(pidFile)) {
    console.error(`no PID file at ${pidFile}: nothing to stop`);
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (isOurZooKeeper(pid, join(dir, 'zoo.cfg'))) {
    await stopPid(pid);
    console.error(`stopped ZooKeeper (PID ${pid})`);
  } else if (isRunning(pid)) {
    // The PID was recycled by an unrelated process: leave it alone.
    console.error(`PID ${pid} is no longer our ZooKeeper; not signalling it`);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const command = positionals[0];
  if (command === 'start') await start(values.dir);
  else if (command === 'stop') await stop(values.dir);
  else {
    console.error('usage: zookeeper-cli start|stop [--dir DIR] [--port PORT]');
    process.exit(64);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ZooKeeperNotInstalledError) {
    console.error(error.message);
    process.exit(EXIT_NOT_INSTALLED);
  }
  console.error(error);
  process.exit(1);
});
