/**
 * The gateway as a server process of its own, for `pnpm bench:zookeeper`: forked by `compare.ts` with an
 * IPC channel, like ZooKeeper's JVM it runs apart from the benchmark's client process, and its memory can be
 * read without the client objects in the same heap.
 *
 * Protocol (IPC messages): on start it sends `{ type: 'ready', connectString }`; `{ type: 'memory' }` is
 * answered `{ type: 'memory', usage }` (`process.memoryUsage()` after full garbage collections — run it
 * with `--expose-gc`); `{ type: 'cpu' }` is answered `{ type: 'cpu', usage, allocatedBytes }` (`process.cpuUsage()`
 * and the bytes the V8 heap has allocated since the child started, see {@link allocatedBytes}); `{ type: 'close' }` closes the gateway and exits 0. When the parent goes away (the IPC
 * channel disconnects) it closes and exits too, so a crashed benchmark leaves no gateway behind.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import v8 from 'node:v8';
import { startGateway } from '@faaskeeper/gateway';

/** What the parent sends. */
export type ChildRequest = { type: 'memory' } | { type: 'cpu' } | { type: 'close' };
/** What the child sends. */
export type ChildReply =
  | { type: 'ready'; connectString: string }
  | { type: 'memory'; usage: NodeJS.MemoryUsage }
  | { type: 'cpu'; usage: NodeJS.CpuUsage; allocatedBytes: number }
  | { type: 'error'; message: string };

function send(reply: ChildReply): void {
  process.send?.(reply);
}

/** Full collections until the heap stops shrinking (at most 5), so only live objects are counted. */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the gateway child with --expose-gc');
  let before = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc();
    const now = process.memoryUsage().heapUsed;
    if (now >= before) break;
    before = now;
  }
}

/**
 * Bytes allocated on the V8 heap since the first call: what the heap holds now, less what it held
 * then, plus what every garbage collection in between freed (from `v8.GCProfiler`, restarted on each
 * call). The difference between two calls, divided by the operations between them, is the bytes a
 * request costs; unlike throughput it hardly moves with the machine's load.
 */
let profiler: v8.GCProfiler | undefined;
let freedBytes = 0;
let startUsed = 0;
function allocatedBytes(): number {
  if (profiler === undefined) startUsed = v8.getHeapStatistics().used_heap_size;
  else
    for (const gc of profiler.stop().statistics)
      freedBytes += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  profiler = new v8.GCProfiler();
  profiler.start();
  return freedBytes + v8.getHeapStatistics().used_heap_size - startUsed;
}

/**
 * With `FAASKEEPER_BENCH_ALLOC_PROFILE=FILE` in its environment the child samples every allocation
 * (V8's sampling heap profiler, collected objects included: `--heap-prof` keeps only the live ones)
 * and writes a `.heapprofile` to FILE when it closes; the returned function writes it.
 */
async function startAllocationProfile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function main(): Promise<void> {
  const profileFile = process.env.FAASKEEPER_BENCH_ALLOC_PROFILE;
  const writeProfile = profileFile === undefined ? undefined : await startAllocationProfile(profileFile);
  if (process.send === undefined)
    throw new Error('gateway-child is forked by compare.ts with an IPC channel');
  const gateway = await startGateway({
    port: 0,
    // Random per run, given so the gateway does not warn that it made one up (sessions never resume
    // in another process here).
    secret: randomBytes(32),
    // The memory figure opens 1,000 sessions from 127.0.0.1; ZooKeeper's default of 60 would refuse them.
    maxClientCnxns: 0,
    // Only problems: a line per connection would make the benchmark measure its logging.
    log: (line) => {
      if (line.level !== 'info') process.stderr.write(`gateway: ${JSON.stringify(line)}\n`);
    },
  });
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    gateway
      .close()
      .then(() => writeProfile?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('gateway-child: close failed', error);
          process.exit(1);
        },
      );
  };
  process.on('disconnect', close);
  process.on('message', (message: ChildRequest) => {
    if (message.type === 'close') close();
    else if (message.type === 'memory') {
      collect();
      send({ type: 'memory', usage: process.memoryUsage() });
    } else if (message.type === 'cpu')
      send({ type: 'cpu', usage: process.cpuUsage(), allocatedBytes: allocatedBytes() });
  });
  send({ type: 'ready', connectString: gateway.connectString });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: String(error) });
  console.error(error);
  process.exit(1);
});
