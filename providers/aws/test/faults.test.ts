// A bounded slice of the fault-injection harness on the local AWS deployment: the core's seeded
// fault injector wraps the functions' AWS ports (throttling, timeouts after the effect, duplicate,
// delayed and split deliveries, channel duplicates and pauses) and function crashes at port calls
// while clients write; afterwards no
// acknowledged write is lost or doubled and the stores are consistent.
import { type EmbeddedService, type FaaSKeeperClient, FaaSKeeperError, ManualClock } from '@faaskeeper/core';
import {
  CrashInjector,
  checkFinalState,
  createFaultInjector,
  DEFAULT_FAULTS,
  Rng,
} from '@faaskeeper/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalAwsDeployment, type LocalAwsDeployment } from '../src/local/index.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
let service: LocalAwsDeployment | undefined;
afterAll(async () => {
  await service?.close();
});

const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** Adds one to `/counter` with a versioned setData, retrying on BADVERSION; true once it took. */
async function increment(zk: FaaSKeeperClient): Promise<void> {
  for (;;) {
    const { data, stat } = await zk.getData('/counter');
    try {
      await zk.setData('/counter', String(Number(text(data)) + 1), { version: stat.version });
      return;
    } catch (error) {
      if (!(error instanceof FaaSKeeperError) || error.code !== 'BADVERSION') throw error;
    }
  }
}

describe('faults on the local AWS deployment', () => {
  it('loses no acknowledged write and leaves consistent stores under injected faults (seed 7)', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { stack: s } = await stack();
    const faults = createFaultInjector(7, DEFAULT_FAULTS);
    const crash = new CrashInjector();
    // A manual clock that never moves: no session expires while functions are retried.
    service = await createLocalAwsDeployment({
      stack: s,
      clock: new ManualClock(),
      // Crashes outermost, as the core's random runs compose them.
      wrap: {
        systemStore: (p) => crash.wrap.systemStore(faults.wrap.systemStore(p)),
        userStore: (p) => crash.wrap.userStore(faults.wrap.userStore(p)),
        writerQueue: (p) => crash.wrap.writerQueue(faults.wrap.writerQueue(p)),
        distributorQueue: (p) => crash.wrap.distributorQueue(faults.wrap.distributorQueue(p)),
        channel: (p) => crash.wrap.channel(faults.wrap.channel(p)),
      },
      wrapHandler: crash.wrapHandler,
    });
    const clients = await Promise.all([service.connect(), service.connect(), service.connect()]);
    await clients[0]!.create('/counter', '0');
    faults.enable();
    crash.setRandomCrashes({ rng: new Rng(11), probability: 0.05 });
    await Promise.all(
      clients.map(async (zk, i) => {
        await zk.create(`/k${i}`, 'v0');
        for (let v = 1; v <= 4; v++) await zk.setData(`/k${i}`, `v${v}`);
        for (let n = 0; n < 3; n++) await increment(zk);
      }),
    );
    faults.disable();
    crash.setRandomCrashes(undefined);
    const reader = clients[0]!;
    await reader.sync('/');
    expect(text((await reader.getData('/counter')).data)).toBe('9');
    for (let i = 0; i < clients.length; i++) {
      const { data, stat } = await reader.getData(`/k${i}`);
      expect(text(data)).toBe('v4');
      expect(stat.version).toBe(4);
    }
    const stats = { ...faults.stats, crash: crash.crashes };
    console.log('injected faults', JSON.stringify(stats));
    expect(faults.stats.transient + faults.stats.timeoutAfterEffect).toBeGreaterThan(0);
    expect(crash.crashes).toBeGreaterThan(0);
    // The local deployment has the embedded one's shape: the core's final-state check reads its ports.
    expect(await checkFinalState(service as unknown as EmbeddedService)).toEqual([]);
  }, 90_000);
});
