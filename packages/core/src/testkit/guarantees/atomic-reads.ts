import { describe, expect, it } from 'vitest';
import type { UserStore } from '../../ports/user-store.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit, text, track } from './helpers.js';

/**
 * A distributor hook that, once armed, holds back the record write of chosen paths until the test
 * releases it, while the batch's other record writes go ahead: the user store is then half-way
 * through a transaction, which is what a reader must never be shown. `written` names the records
 * the distributor has finished writing since the hook was armed (the others' writes run
 * concurrently and may still be on their way to the store when it pauses).
 */
function pausingHook() {
  let blocked = new Set<string>();
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const reached = new Set<string>();
  const written = new Set<string>();
  const watermarks: number[] = [];
  let onReached: (() => void) | undefined;
  return {
    written,
    /** The watermarks the distributor wrote, in order. */
    watermarks,
    hook: async (path: string) => {
      if (!blocked.has(path)) return;
      reached.add(path);
      onReached?.();
      await gate;
    },
    /** The distributor's user store, noting each record written. */
    observe(store: UserStore): UserStore {
      return {
        get: (path) => store.get(path),
        put: async (path, record) => {
          await store.put(path, record);
          written.add(path);
        },
        delete: (path) => store.delete(path),
        getWatermark: () => store.getWatermark(),
        putWatermark: async (zxid) => {
          await store.putWatermark(zxid);
          watermarks.push(zxid);
        },
        getMarker: (session) => store.getMarker(session),
        putMarker: (session, events) => store.putMarker(session, events),
        putChild: (entry) => store.putChild(entry),
        deleteChild: (entry) => store.deleteChild(entry),
        listChildren: (parent) => store.listChildren(parent),
      };
    },
    /** Holds the next writes of `paths`; resolves `paused` once the distributor waits at one. */
    arm(paths: string[]) {
      blocked = new Set(paths);
      reached.clear();
      written.clear();
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const paused = new Promise<void>((resolve) => {
        onReached = resolve;
      });
      return { paused };
    },
    release() {
      blocked = new Set();
      release();
    },
  };
}

/** No reader sees half of a transaction (DESIGN.md: records newer than the watermark wait), on `target`. */
export function describeAtomicReadsGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    /** Lets everything that is not blocked run to completion. */
    const quiesce = () => kit.quiet();

    /** Waits until the distributor has written the records of `paths` (the parts not held back). */
    const written = (pause: ReturnType<typeof pausingHook>, paths: string[]) =>
      kit.eventually(() => paths.every((p) => pause.written.has(p)), `the records of ${paths.join(', ')}`);

    async function setup() {
      const pause = pausingHook();
      kit.onCleanup(() => pause.release());
      const h = await kit.deploy({
        betweenDistributorWrites: pause.hook,
        wrap: { userStore: (store) => pause.observe(store) },
      });
      const [writer, reader] = await Promise.all([h.connect(), h.connect()]);
      // `others[i]` makes a read that must complete while `reader`'s earlier reads wait: `reader`
      // itself, unless its replies come in request order (then a client of its own each).
      const others =
        target.inOrderReplies === true
          ? await Promise.all([1, 2, 3].map(() => h.connect()))
          : [reader, reader, reader];
      return { ...h, pause, writer, reader, others: others as [typeof reader, typeof reader, typeof reader] };
    }

    describe('no reader sees half of a transaction', () => {
      it("never shows a created node without its parent's child list (parent record held back)", async () => {
        const { pause, writer, reader, others } = await setup();
        await writer.create('/p', 'parent');
        const { paused } = pause.arm(['/p']);
        const create = track(writer.create('/p/c', 'child'));
        await paused;
        await written(pause, ['/p/c']);
        await quiesce();
        expect(create.done).toBe(false);

        // The child's record is in the store, newer than the rest: reading it must wait.
        const child = track(reader.getData('/p/c'));
        const exists = track(reader.exists('/p/c'));
        // The parent's record is still the old one: a read of it shows the old state at once.
        const parent = await others[0].getChildren('/p');
        expect(parent.children).toEqual([]);
        expect(parent.stat.numChildren).toBe(0);
        await quiesce();
        expect(child.done).toBe(false);
        expect(exists.done).toBe(false);

        pause.release();
        expect(await create.promise).toBe('/p/c');
        expect(text((await child.promise).data)).toBe('child');
        expect(await exists.promise).not.toBeNull();
        // Once the new child was seen, the parent shows it too: the view never goes back.
        const after = await reader.getChildren('/p');
        expect(after.children).toEqual(['c']);
        expect(after.stat.numChildren).toBe(1);
      });

      it("never shows a parent's new child list without the child (child record held back)", async () => {
        const { pause, writer, reader, others } = await setup();
        await writer.create('/p');
        const { paused } = pause.arm(['/p/c']);
        const create = track(writer.create('/p/c', 'child'));
        await paused;
        await quiesce();

        // The parent's record closes the create's distribution: it is written after the child's,
        // so while the child is held back the parent is the old one, shown at once; so is the
        // child's absence, as before the txn.
        expect(pause.written.has('/p')).toBe(false);
        const parent = await reader.getChildren('/p');
        expect(parent.children).toEqual([]);
        expect(parent.stat.numChildren).toBe(0);
        expect(await others[0].exists('/p/c')).toBeNull();
        expect(create.done).toBe(false);

        pause.release();
        await create.promise;
        expect((await reader.getChildren('/p')).children).toEqual(['c']);
        expect((await reader.exists('/p'))!.numChildren).toBe(1);
        expect(text((await reader.getData('/p/c')).data)).toBe('child');
      });

      it('never shows one part of a multi without the others', async () => {
        const { pause, writer, reader, others } = await setup();
        await writer.create('/a', 'old');
        await writer.create('/b', 'old');
        await writer.create('/c', 'old');
        // /c's record is written last (the record closing the distribution, or any record when
        // the watermark closes it): hold it back with the others written.
        const { paused } = pause.arm(['/c']);
        const multi = track(
          writer.multi([
            { op: 'setData', path: '/a', data: 'new' },
            { op: 'setData', path: '/b', data: 'new' },
            { op: 'create', path: '/c/d', data: 'new' },
          ]),
        );
        await paused;
        await written(pause, ['/a', '/b', '/c/d']);
        await quiesce();
        expect(multi.done).toBe(false);

        // Reads during the pause: each either returns the old state at once or waits for the new one.
        const log: string[] = [];
        const reads = [
          reader.getData('/a').then((r) => log.push(`/a ${text(r.data)}`)),
          others[0].getData('/b').then((r) => log.push(`/b ${text(r.data)}`)),
          others[1].exists('/c/d').then((s) => log.push(`/c/d ${s === null ? 'old' : 'new'}`)),
          others[2].getChildren('/c').then((r) => log.push(`/c ${r.children.length === 0 ? 'old' : 'new'}`)),
        ];
        await kit.eventually(() => log.includes('/c old'), "the read of /c's old record");
        await quiesce();
        // Only /c's record is still the old one; every record already written must not be shown.
        expect(log).toEqual(['/c old']);

        pause.release();
        await Promise.all(reads);
        await multi.promise;
        expect(log.slice(1).sort()).toEqual(['/a new', '/b new', '/c/d new']);
        // And after that, every part is new.
        expect((await reader.getChildren('/c')).children).toEqual(['d']);
      });

      it('a read after a read that waited for a txn sees all of that txn', async () => {
        const { pause, writer, reader } = await setup();
        await writer.create('/a', 'old');
        await writer.create('/b', 'old');
        const { paused } = pause.arm(['/b']);
        const multi = writer.multi([
          { op: 'setData', path: '/a', data: 'new' },
          { op: 'setData', path: '/b', data: 'new' },
        ]);
        await paused;
        await written(pause, ['/a']);
        const first = track(reader.getData('/a'));
        await quiesce();
        expect(first.done).toBe(false);
        pause.release();
        expect(text((await first.promise).data)).toBe('new');
        expect(text((await reader.getData('/b')).data)).toBe('new');
        await multi;
      });

      it("never shows a deletion without the parent's child list, nor the reverse", async () => {
        const { pause, writer, reader, others } = await setup();
        await writer.create('/p');
        await writer.create('/p/c', 'child');
        const { paused } = pause.arm(['/p']);
        const del = track(writer.delete('/p/c'));
        await paused;
        await written(pause, ['/p/c']);
        await quiesce();
        // The child's tombstone is written: it must not read as gone while the parent still lists it.
        const gone = track(reader.exists('/p/c'));
        const data = track(reader.getData('/p/c').catch((e: { code: string }) => e.code));
        const parent = await others[0].getChildren('/p');
        expect(parent.children).toEqual(['c']);
        await quiesce();
        expect(gone.done).toBe(false);
        expect(data.done).toBe(false);
        pause.release();
        await del.promise;
        expect(await gone.promise).toBeNull();
        expect(await data.promise).toBe('NONODE');
        expect((await reader.getChildren('/p')).children).toEqual([]);
      });
    });

    describe('a lone record stands in for the watermark', () => {
      it('a setData is readable at once by a client behind it, with no watermark write', async () => {
        const { pause, writer, reader, connect } = await setup();
        await writer.create('/a', 'old');
        await writer.create('/b', 'old');
        expect(text((await reader.getData('/a')).data)).toBe('old');
        const before = [...pause.watermarks];
        await writer.setData('/a', 'new');
        await quiesce();
        // The setData wrote /a's record alone: no watermark, and none is coming.
        expect(pause.watermarks).toEqual(before);
        // `reader` heard of no zxid past the creates: it meets /a newer than any watermark and
        // must take the record itself as the watermark (waiting would time out).
        const read = await reader.getData('/a');
        expect(text(read.data)).toBe('new');
        expect(read.stat.version).toBe(1);
        expect(reader.lastZxid).toBeGreaterThanOrEqual(read.stat.mzxid);
        expect(text((await reader.getData('/b')).data)).toBe('old');
        // A write of two records closes with its last one: still no watermark, and a client
        // behind it reads both parts at once.
        await writer.multi([
          { op: 'setData', path: '/a', data: 'newer' },
          { op: 'setData', path: '/b', data: 'newer' },
        ]);
        await quiesce();
        expect(pause.watermarks).toEqual(before);
        const late = await connect();
        expect(text((await late.getData('/a')).data)).toBe('newer');
        expect(text((await late.getData('/b')).data)).toBe('newer');
      });

      it('a record whose closing record was deleted since is readable at once', async () => {
        const { pause, writer, reader } = await setup();
        await writer.create('/a', 'old');
        await writer.create('/b', 'old');
        expect(text((await reader.getData('/a')).data)).toBe('old');
        const before = [...pause.watermarks];
        // /a's record names /b's, which closes the multi; then /b is deleted and its tombstone
        // removed. `reader`, behind both, meets /a above what it knows and finds no closing
        // record: a later batch removed it, so /a's batch is in place (waiting would time out).
        await writer.multi([
          { op: 'setData', path: '/a', data: 'new' },
          { op: 'setData', path: '/b', data: 'new' },
        ]);
        await writer.delete('/b');
        await quiesce();
        expect(pause.watermarks).toEqual(before);
        expect(text((await reader.getData('/a')).data)).toBe('new');
        expect(await reader.exists('/b')).toBeNull();
      });

      it('a create and a delete close with the parent record, with no watermark write', async () => {
        const { pause, writer, reader, connect } = await setup();
        await writer.create('/p');
        expect((await reader.getChildren('/p')).children).toEqual([]);
        const before = [...pause.watermarks];
        await writer.create('/p/c', 'child');
        await quiesce();
        expect(pause.watermarks).toEqual(before);
        // `reader` is behind the create: it meets /p/c above any watermark it knows and waits
        // for the parent's record, which is in place (waiting for a watermark would time out).
        expect(text((await reader.getData('/p/c')).data)).toBe('child');
        expect((await reader.getChildren('/p')).children).toEqual(['c']);
        await writer.delete('/p/c');
        await quiesce();
        expect(pause.watermarks).toEqual(before);
        const late = await connect();
        expect(await late.exists('/p/c')).toBeNull();
        expect((await late.getChildren('/p')).children).toEqual([]);
        expect(await reader.exists('/p/c')).toBeNull();
      });
    });
  });
}
