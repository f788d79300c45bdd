/**
 * Distributed lock: several workers, each with its own session, increment a shared counter node
 * with a read-modify-write that is only safe under a {@link Mutex}.
 * @packageDocumentation
 */
import { pathToFileURL } from 'node:url';
import type { FaaSKeeperClient } from '@faaskeeper/client';
import { Mutex } from '@faaskeeper/client/recipes';
import { createEmbeddedService } from '@faaskeeper/core';

/** What a run of the example did. */
export interface LockRunResult {
  /** The counter's final value: workers × increments when the lock held. */
  counter: number;
  /** Most workers that were inside the critical section at once (1 when the lock held). */
  maxConcurrent: number;
  /** Which worker held the lock, in order. */
  order: string[];
}

const decoder = new TextDecoder();

/** One worker: takes the lock, increments the counter, releases; `increments` times. */
async function worker(zk: FaaSKeeperClient, name: string, increments: number, track: (d: number) => void) {
  // #region worker
  const mutex = new Mutex(zk, '/locks/counter');
  for (let i = 0; i < increments; i++) {
    await mutex.acquire();
    try {
      track(+1);
      // Read, then write without a version check: safe only because we hold the lock.
      const value = Number(decoder.decode((await zk.getData('/counter')).data));
      await zk.setData('/counter', String(value + 1));
      track(-1);
    } finally {
      await mutex.release();
    }
  }
  // #endregion worker
  return name;
}

/** Runs `workers` workers doing `increments` increments each on an embedded deployment. */
export async function main(workers = 3, increments = 5): Promise<LockRunResult> {
  const service = createEmbeddedService();
  try {
    const admin = await service.connect();
    await admin.create('/counter', '0');
    const clients = await Promise.all(Array.from({ length: workers }, () => service.connect()));
    let inside = 0;
    let maxConcurrent = 0;
    const order: string[] = [];
    await Promise.all(
      clients.map((zk, i) =>
        worker(zk, `worker-${i}`, increments, (d) => {
          inside += d;
          maxConcurrent = Math.max(maxConcurrent, inside);
          if (d > 0) order.push(`worker-${i}`);
        }),
      ),
    );
    const counter = Number(decoder.decode((await admin.getData('/counter')).data));
    return { counter, maxConcurrent, order };
  } finally {
    await service.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main();
  console.log(`counter = ${result.counter}, at most ${result.maxConcurrent} worker(s) inside at once`);
  console.log(`lock order: ${result.order.join(' → ')}`);
}
