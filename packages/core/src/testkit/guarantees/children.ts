import { describe, expect, it } from 'vitest';
import { fillChildren } from '../../bench/scale.js';
import type { Stat } from '../../model/stat.js';
import { Rng } from '../faults/prng.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit } from './helpers.js';

/** Sizes of the children guarantees on one target. */
export interface ChildrenGuaranteeOptions {
  /** Children of the large parent that `getChildren` must answer in full. Default 100,000. */
  manyChildren?: number;
  /** Creates per `multi` while filling it (a store's transaction limit). Default 1,000. */
  multiOps?: number;
  /** Wall-time budget of the large test, in ms. Default 10 minutes. */
  manyChildrenTimeoutMs?: number;
}

/**
 * The large parent's size on the emulated cloud stacks: 30,000 children by default — past one page
 * of every listing (S3 and Cloud Storage 1,000 keys, DynamoDB 1 MB, about 23,000 entries), filled in
 * 2–3 minutes — and `FAASKEEPER_MANY_CHILDREN` (e.g. 100000) for the full size, which took 8 minutes
 * on AWS's emulators and 5 on GCP's on a loaded 2-core machine. The embedded deployment always
 * answers 100,000 (the size), in seconds.
 */
export function cloudManyChildren(fallback = 30_000): number {
  const text = process.env.FAASKEEPER_MANY_CHILDREN;
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`FAASKEEPER_MANY_CHILDREN must be a positive integer, got '${text}'`);
  return n;
}

/**
 * getChildren over children stored as their own index entries (docs/scale.md), on `target`: every
 * answer is the child set of one zxid — its Stat's `pzxid` — with `numChildren` equal to the count,
 * under concurrent creates and deletes and re-created names; answers never go back for one client;
 * and a parent of 100,000 children is answered in full.
 */
export function describeChildrenGuarantees(
  target: DeploymentTarget,
  options: ChildrenGuaranteeOptions = {},
): void {
  const many = options.manyChildren ?? 100_000;
  const multiOps = options.multiOps ?? 1_000;
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('getChildren (children as their own entries)', () => {
      it('answers the child set of the zxid its Stat names (pzxid), numChildren equal to the count, under concurrent creates and deletes (seed 7)', async () => {
        const { connect } = await kit.deploy();
        const writer = await connect();
        const readers = await Promise.all([connect(), connect()]);
        await writer.create('/c');
        // The child set after each of the writer's changes, by the pzxid it gave the parent: the
        // writer alone changes /c, one change at a time, so each pzxid names exactly one set.
        const states = new Map<number, string[]>([[(await writer.exists('/c'))!.pzxid, []]]);
        const live = new Set<string>();
        // Few names, so that names are deleted and created again often.
        const names = Array.from({ length: 6 }, (_, i) => `n${i}`);
        const rng = new Rng(7);
        let writing = true;
        const write = (async () => {
          for (let i = 0; i < 40; i++) {
            const name = rng.pick(names);
            if (live.has(name)) {
              await writer.delete(`/c/${name}`);
              live.delete(name);
            } else {
              await writer.create(`/c/${name}`);
              live.add(name);
            }
            states.set((await writer.exists('/c'))!.pzxid, [...live].sort());
          }
          writing = false;
        })();
        const answers = readers.map(async (zk) => {
          const seen: { children: string[]; stat: Stat }[] = [];
          while (writing) seen.push(await zk.getChildren('/c'));
          seen.push(await zk.getChildren('/c'));
          return seen;
        });
        await write;
        const all = await Promise.all(answers);
        for (const seen of all) {
          expect(seen.length).toBeGreaterThan(1);
          for (const [i, { children, stat }] of seen.entries()) {
            expect(children).toHaveLength(stat.numChildren);
            expect(states.has(stat.pzxid), `pzxid ${stat.pzxid} is one of the writer's`).toBe(true);
            expect(children).toEqual(states.get(stat.pzxid));
            // Never back in time for one client.
            if (i > 0) expect(stat.pzxid).toBeGreaterThanOrEqual(seen[i - 1]!.stat.pzxid);
          }
          // The last answer, read after the writer's last change, is the final set.
          expect(seen.at(-1)!.children).toEqual([...live].sort());
        }
      });

      it("keeps answering the child set of the parent's record while a delete and a re-create are half-way in the user store (parent record held back)", async () => {
        let hold: Promise<void> | undefined;
        let reached: (() => void) | undefined;
        const { connect } = await kit.deploy({
          betweenDistributorWrites: async (path) => {
            if (path !== '/h' || hold === undefined) return;
            reached?.();
            await hold;
          },
        });
        const [writer, reader] = await Promise.all([connect(), connect()]);
        await writer.create('/h');
        await writer.create('/h/a');
        const before = await reader.getChildren('/h');
        expect(before.children).toEqual(['a']);
        let release!: () => void;
        hold = new Promise<void>((resolve) => {
          release = resolve;
        });
        kit.onCleanup(() => release());
        const paused = new Promise<void>((resolve) => {
          reached = resolve;
        });
        // One transaction: a's tombstone and the new life's entry reach the index, the parent's
        // record (with the new pzxid) is held back.
        const multi = writer.multi([
          { op: 'delete', path: '/h/a' },
          { op: 'create', path: '/h/b' },
        ]);
        await paused;
        await kit.quiet();
        const during = await reader.getChildren('/h');
        expect(during).toEqual(before);
        hold = undefined;
        release();
        await multi;
        const after = await reader.getChildren('/h');
        expect(after.children).toEqual(['b']);
        expect(after.stat.pzxid).toBeGreaterThan(before.stat.pzxid);
        expect(after.stat.numChildren).toBe(1);
      });

      it('lists a name deleted and created again once, as of its latest life', async () => {
        const { connect } = await kit.deploy();
        const zk = await connect();
        const other = await connect();
        await zk.create('/r');
        await zk.create('/r/n', 'first');
        const first = (await zk.exists('/r/n'))!;
        await zk.delete('/r/n');
        expect(await other.getChildren('/r')).toMatchObject({ children: [], stat: { numChildren: 0 } });
        await zk.create('/r/n', 'second');
        await zk.create('/r/m');
        const again = await other.getChildren('/r');
        expect(again.children).toEqual(['m', 'n']);
        expect(again.stat.numChildren).toBe(2);
        expect(again.stat.cversion).toBe(4);
        expect((await other.exists('/r/n'))!.czxid).toBeGreaterThan(first.czxid);
        // A multi that deletes and re-creates the name in one transaction changes nothing listed.
        await zk.multi([
          { op: 'delete', path: '/r/n' },
          { op: 'create', path: '/r/n' },
        ]);
        expect(await other.getChildren('/r')).toMatchObject({
          children: ['m', 'n'],
          stat: { numChildren: 2 },
        });
        // And one that creates and deletes a name leaves no trace of it.
        await zk.multi([
          { op: 'create', path: '/r/gone' },
          { op: 'delete', path: '/r/gone' },
        ]);
        expect((await other.getChildren('/r')).children).toEqual(['m', 'n']);
      });

      it(
        `answers getChildren of ${many.toLocaleString('en-US')} children in full`,
        async () => {
          const { connect } = await kit.deploy();
          const zk = await connect();
          await zk.create('/p');
          await fillChildren(zk, '/p', many, multiOps, 4);
          const other = await connect();
          const { children, stat } = await other.getChildren('/p');
          expect(stat.numChildren).toBe(many);
          expect(children).toHaveLength(many);
          expect(new Set(children).size).toBe(many);
          expect(children[0]).toBe('c0000000');
          expect(children.at(-1)).toBe(`c${String(many - 1).padStart(7, '0')}`);
          // A change after the fill shows in the next answer, as the child set of its zxid.
          await zk.delete('/p/c0000000');
          const after = await other.getChildren('/p');
          expect(after.children).toHaveLength(many - 1);
          expect(after.stat.numChildren).toBe(many - 1);
          expect(after.children[0]).toBe('c0000001');
        },
        options.manyChildrenTimeoutMs ?? 600_000,
      );
    });
  });
}
