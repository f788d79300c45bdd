// A bounded slice of the reliability harness on the GCP deployment (pull invocation): the
// functions' Datastore and Pub/Sub calls fail transiently or time out after taking effect, acks are
// lost (duplicate deliveries), batches split, channel batches duplicate, and invocations crash at
// random port calls and are retried. No acknowledged write may be lost or applied twice.
import { CreateMode, type FaaSKeeperClient, type PortWrappers } from '@faaskeeper/core';
import { CrashInjector, createFaultInjector, Rng } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { createLocalGcpDeployment } from '../src/index.js';
import { whenEmulators } from './support.js';

const text = (data: Uint8Array) => new TextDecoder().decode(data);

whenEmulators((stack) => {
  describe('faults on the GCP deployment', () => {
    it('loses no acknowledged write and applies none twice under injected faults and crashes (seed 7)', async () => {
      const faults = createFaultInjector(7, {
        transient: 0.08,
        timeoutAfterEffect: 0.04,
        duplicateDelivery: 0.1,
        splitBatch: 0.3,
        channelDuplicate: 0.1,
      });
      const crashes = new CrashInjector();
      // Faults first, crash points outermost (as core's harness composes them).
      const wrap: PortWrappers = {
        systemStore: (p) => crashes.wrap.systemStore(faults.wrap.systemStore(p)),
        userStore: (p) => crashes.wrap.userStore(faults.wrap.userStore(p)),
        writerQueue: (p) => crashes.wrap.writerQueue(faults.wrap.writerQueue(p)),
        distributorQueue: (p) => crashes.wrap.distributorQueue(faults.wrap.distributorQueue(p)),
        channel: (p) => crashes.wrap.channel(faults.wrap.channel(p)),
      };
      const errors: string[] = [];
      const d = await createLocalGcpDeployment({
        stack: stack(),
        wrap,
        wrapHandler: crashes.wrapHandler,
        onFunctionError: (name, e) => errors.push(`${name}: ${String(e)}`),
      });
      try {
        const [a, b] = await Promise.all([d.connect(), d.connect()]);
        await a.create('/f');
        faults.enable();
        crashes.setRandomCrashes({ rng: new Rng(11), probability: 0.03 });
        const work = async (zk: FaaSKeeperClient, name: string) => {
          await zk.create(`/f/${name}`, 'v0');
          for (let i = 1; i <= 6; i++) await zk.setData(`/f/${name}`, `v${i}`);
          const seq: string[] = [];
          for (let i = 0; i < 3; i++)
            seq.push(await zk.create('/f/s-', name, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
          return seq;
        };
        const [seqA, seqB] = await Promise.all([work(a, 'a'), work(b, 'b')]);
        crashes.setRandomCrashes(undefined);
        faults.disable();
        for (const name of ['a', 'b']) {
          const { data, stat } = await a.getData(`/f/${name}`);
          expect(text(data)).toBe('v6');
          expect(stat.version).toBe(6); // six acknowledged updates, each applied once
        }
        const children = (await b.getChildren('/f')).children.filter((c) => c.startsWith('s-'));
        expect(children.sort()).toEqual([...seqA, ...seqB].map((p) => p.slice('/f/'.length)).sort());
        expect(new Set(children).size).toBe(6);
        console.log(
          `faults injected: ${JSON.stringify(faults.stats)}, crashes: ${crashes.crashes}, function errors: ${errors.length}`,
        );
        expect(crashes.crashes + faults.stats.transient + faults.stats.timeoutAfterEffect).toBeGreaterThan(0);
      } finally {
        faults.disable();
        crashes.setRandomCrashes(undefined);
        await d.close();
      }
    }, 90_000);
  });
});
