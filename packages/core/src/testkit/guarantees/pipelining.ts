import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit, limitTransactionItems, text } from './helpers.js';

/** FIFO client order: a client's pipelined requests apply and resolve in issue order, on `target`. */
export function describePipeliningGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('FIFO client order', () => {
      it('completes 100 pipelined setData calls in order, ending at version 100', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/p', 'start');
        const resolved: number[] = [];
        const calls = Array.from({ length: 100 }, (_, i) =>
          zk.setData('/p', String(i)).then((stat) => {
            resolved.push(i);
            return stat;
          }),
        );
        const stats = await Promise.all(calls);
        expect(resolved).toEqual(Array.from({ length: 100 }, (_, i) => i));
        // Applied in issue order: the i-th call made version i + 1.
        expect(stats.map((s) => s.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        for (let i = 1; i < stats.length; i++) expect(stats[i]!.mzxid).toBeGreaterThan(stats[i - 1]!.mzxid);
        const { data, stat } = await zk.getData('/p');
        expect(stat.version).toBe(100);
        expect(text(data)).toBe('99');
      });

      it('applies pipelined writes of mixed kinds in issue order, failures included', async () => {
        const zk = await (await kit.deploy()).connect();
        const outcomes: string[] = [];
        const note = (label: string, p: Promise<unknown>) =>
          p.then(
            () => outcomes.push(`${label} ok`),
            (e: { code: string }) => outcomes.push(`${label} ${e.code}`),
          );
        await Promise.all([
          note('create /q', zk.create('/q', 'a')),
          note('create /q again', zk.create('/q', 'b')),
          note('create /q/c', zk.create('/q/c')),
          note('delete /q', zk.delete('/q')),
          note('delete /q/c', zk.delete('/q/c')),
          note('setData /q', zk.setData('/q', 'c', { version: 0 })),
          note('delete /q', zk.delete('/q', { version: 1 })),
        ]);
        expect(outcomes).toEqual([
          'create /q ok',
          'create /q again NODEEXISTS',
          'create /q/c ok',
          'delete /q NOTEMPTY',
          'delete /q/c ok',
          'setData /q ok',
          'delete /q ok',
        ]);
        expect(await zk.exists('/q')).toBeNull();
      });

      it('a read issued after a pending write of the same client sees that write', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/r', '0');
        const write = zk.setData('/r', '1');
        const created = zk.create('/r/child');
        // Issued without awaiting the writes: the reads still wait for them.
        const [read, children, exists] = await Promise.all([
          zk.getData('/r'),
          zk.getChildren('/r'),
          zk.exists('/r/child'),
        ]);
        expect(text(read.data)).toBe('1');
        expect(children.children).toEqual(['child']);
        expect(exists).not.toBeNull();
        await Promise.all([write, created]);
      });

      it("keeps each client's order when many clients pipeline at once", async () => {
        const { connect } = await kit.deploy();
        const clients = await Promise.all(Array.from({ length: 5 }, () => connect()));
        await clients[0]!.create('/many');
        const runs = clients.map(async (zk, c) => {
          await zk.create(`/many/${c}`, '');
          const stats = await Promise.all(
            Array.from({ length: 20 }, (_, i) => zk.setData(`/many/${c}`, String(i))),
          );
          return stats.map((s) => s.version);
        });
        for (const versions of await Promise.all(runs))
          expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        for (const [c, zk] of clients.entries())
          expect(text((await zk.getData(`/many/${c}`)).data)).toBe('19');
      });

      it("applies pipelined writes beyond one transaction's item limit in issue order", async () => {
        // A system store that takes at most 25 items per transaction (DynamoDB takes 100): the
        // writer must split the batch into several commits and keep their order.
        const zk = await (
          await kit.deploy({ wrap: { systemStore: (inner) => limitTransactionItems(inner, 25) } })
        ).connect();
        await zk.create('/big');
        const paths = await Promise.all(
          Array.from({ length: 120 }, (_, i) =>
            i % 2 === 0
              ? zk.create(`/big/n${String(i).padStart(3, '0')}`, String(i))
              : zk.create('/big/s-', String(i), { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
          ),
        );
        // Sequential suffixes count the children created under the parent before.
        paths.forEach((p, i) => {
          if (i % 2 === 1) expect(p).toBe(`/big/s-${String(i).padStart(10, '0')}`);
        });
        const stats = await Promise.all(paths.map(async (p) => (await zk.exists(p))!));
        for (let i = 1; i < stats.length; i++) expect(stats[i]!.czxid).toBeGreaterThan(stats[i - 1]!.czxid);
        const parent = await zk.getChildren('/big');
        expect(parent.stat.numChildren).toBe(120);
        expect(parent.stat.cversion).toBe(120);
        expect(parent.children).toHaveLength(120);
      });

      it('interleaved pipelined reads and writes each see exactly the writes issued before them', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/rw', '-1');
        const reads: Promise<string>[] = [];
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 30; i++) {
          reads.push(zk.getData('/rw').then((r) => text(r.data)));
          writes.push(zk.setData('/rw', String(i)));
        }
        expect(await Promise.all(reads)).toEqual(Array.from({ length: 30 }, (_, i) => String(i - 1)));
        await Promise.all(writes);
      });
    });
  });
}
